/**
 * Test-only hooks that make a process fail at a chosen point of its file writes, so tests can show
 * what a crash or a full disk leaves behind. Both read the environment and are inert when unset.
 *
 *   VQLAB_TEST_KILL_AT_WRITE=N      SIGKILL this process at its N-th write point (1-based)
 *   VQLAB_TEST_FAIL_WRITE=CODE:TEXT  fail every write point whose path contains TEXT with errno CODE
 *                                    (e.g. ENOSPC:optimizer.safetensors)
 *
 * A write point is each step of persistence after which a crash leaves a different state on
 * disk: a temporary file written, renamed into place, a folder created or removed.
 */
let writePoints = 0;

export function writePoint(path: string): void {
  const env = process.env;
  if (env.VQLAB_TEST_KILL_AT_WRITE === undefined && env.VQLAB_TEST_FAIL_WRITE === undefined) return;
  writePoints++;
  if (Number(env.VQLAB_TEST_KILL_AT_WRITE) === writePoints) process.kill(process.pid, 'SIGKILL');
  const fail = env.VQLAB_TEST_FAIL_WRITE;
  if (fail !== undefined) {
    const [code, text] = [fail.slice(0, fail.indexOf(':')), fail.slice(fail.indexOf(':') + 1)];
    if (path.includes(text)) throw Object.assign(new Error(`${code}: injected failure, write '${path}'`), { code });
  }
}

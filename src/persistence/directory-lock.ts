/**
 * An advisory lock on a directory, so that two processes never train into one run directory at
 * once (two `vqlab experiment` commands over the same --out would otherwise interleave checkpoints
 * and metrics). DIR/.lock holds the owner's pid and, where /proc exists, the owner's start time
 * (field 22 of /proc/PID/stat). A lock whose owner has exited is stale and taken over; the start
 * time also exposes a stale lock whose pid a later process reused, which after a restart is common.
 * Taking a stale lock over is not atomic: two processes that find the same stale lock in the same
 * instant could both proceed. The lock guards against starting a second command by mistake, not
 * against such a race.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = '.lock';

/** The kernel's start time of `pid` (clock ticks since boot), or undefined without /proc. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces, so fields are counted after its ')';
    // the state is field 3, the start time field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is not ours to signal
  }
  const now = startTime(pid);
  return start === undefined || now === undefined || now === start;
}

function readOwner(path: string): { pid: number; start: string | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
    throw err;
  }
  const [pid, start] = text.trim().split(' ');
  return { pid: Number(pid), start: start || undefined };
}

/**
 * Lock `dir` (which must exist) for this process; `what` names the work in errors. Returns the
 * release function. Throws, naming the owner and the fix, while another live process holds it.
 */
export function lockDirectory(dir: string, what: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me = `${process.pid} ${startTime(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${me}\n`, { flag: 'wx' });
      return () => {
        if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (owner === undefined) continue;
    if (Number.isInteger(owner.pid) && owner.pid > 0 && isAlive(owner.pid, owner.start)) {
      throw new Error(`${what}: process ${owner.pid} is already working in ${dir}; wait for it to finish or stop it (if it is not running, delete ${path})`);
    }
    rmSync(path, { force: true }); // stale: its owner has exited
  }
  throw new Error(`${what}: could not lock ${dir}, other processes kept taking ${path}; try again`);
}

/**
 * The write points of persistence, and the hook that runs at each. A write point is each step after
 * which a crash leaves a different state on disk: a temporary file written, renamed into place, a
 * folder created or removed. Production runs with `NO_WRITE_FAULTS`; crash tests pass a hook that
 * fails a chosen write (a full or read-only disk) or kills the process at a chosen point (a crash),
 * to show what each leaves behind.
 */
export interface WriteHook {
  /** Runs before the write point that writes, renames or removes `path`; a throw fails that write. */
  beforeWrite(path: string): void;
}

export const NO_WRITE_FAULTS: WriteHook = { beforeWrite: () => {} };

/** SIGKILLs this process at its `n`-th write point (1-based): a crash at that instant. */
export function killAtWritePoint(n: number): WriteHook {
  let points = 0;
  return {
    beforeWrite: () => {
      if (++points === n) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** Fails every write point whose path contains `pathPart` with the errno `code` (e.g. 'ENOSPC'), as the OS would. */
export function failWritesTo(pathPart: string, code: string): WriteHook {
  return {
    beforeWrite: (path) => {
      if (path.includes(pathPart)) throw Object.assign(new Error(`${code}: injected failure, write '${path}'`), { code });
    },
  };
}

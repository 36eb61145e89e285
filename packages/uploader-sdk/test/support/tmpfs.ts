import { execFileSync } from 'node:child_process';

/** Whether this process may mount a small tmpfs (root on Linux): the only way to make a disk run full. */
export const tmpfsMountable: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Says loudly that `what` is skipped when no tmpfs can be mounted. */
export function warnIfNoTmpfs(what: string): void {
  if (!tmpfsMountable) console.warn(`SKIPPING ${what}: it mounts a small tmpfs, which needs root on Linux.`);
}

/** Mounts a tmpfs of `size` (e.g. `64k`, `1m`) on `directory`; returns the unmount. */
export function mountTmpfs(directory: string, size: string): () => Promise<void> {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', directory]);
  return async () => {
    execFileSync('umount', [directory]);
  };
}

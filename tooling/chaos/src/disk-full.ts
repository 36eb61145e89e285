import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A small tmpfs that a client's queue directory lives on, which can be filled up and freed again. */
export interface SmallDisk {
  readonly mountPoint: string;
  /** Writes a filler file until the filesystem refuses (ENOSPC); returns the bytes written. */
  fill(): number;
  /** Deletes the filler file. */
  free(): void;
  unmount(): void;
}

const FILLER = '.chaos-filler';

/**
 * Mounts a tmpfs of `sizeMiB` at `mountPoint`, or explains why it cannot (not root, no tmpfs): the caller
 * then skips the full-disk fault and says so.
 */
export function mountSmallDisk(
  mountPoint: string,
  sizeMiB: number,
): SmallDisk | { readonly skipped: string } {
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skipped: `mount -t tmpfs failed (${stderr || (error as Error).message})` };
  }
  const filler = join(mountPoint, FILLER);
  return {
    mountPoint,
    fill: () => {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (const chunk of [Buffer.alloc(1 << 20, 0x5a), Buffer.alloc(4096, 0x5a), Buffer.alloc(1, 0x5a)]) {
          for (;;) {
            try {
              written += writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => rmSync(filler, { force: true }),
    unmount: () => {
      try {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
      } catch {
        // Already unmounted.
      }
    },
  };
}

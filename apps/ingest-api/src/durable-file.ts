import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

// The only module of this app that calls fsync (test/durable-file-placement.test.ts enforces it), so that
// what "durable" means is decided in one place.

/** Options of {@link writeFileDurably}. */
export interface WriteFileDurablyOptions {
  /** Aborts the write; the temporary file is removed and `path` is left as it was. */
  readonly signal?: AbortSignal | undefined;
}

/** fsyncs a directory so that entries created, renamed or removed in it survive power loss. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Tail of the directory creations of this process, run one at a time (see {@link makeDirectoryDurably}). */
let creating: Promise<unknown> = Promise.resolve();
/** Directory creations queued or running. */
let creations = 0;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Creates `directory` and its missing parents so that they survive power loss: each one created is
 * fsynced in its parent before the call returns. Returns the directories that were missing, outermost first.
 *
 * Creations run one at a time in this process, and a directory that exists while one runs is waited
 * for: another call may have created it and not yet fsynced its parent, and a file written in it
 * would vanish with it.
 */
export async function makeDirectoryDurably(directory: string): Promise<string[]> {
  if ((await isDirectory(directory)) && creations === 0) return [];
  creations += 1;
  const created = creating.then(async () => {
    const missing: string[] = [];
    for (let path = directory; !(await isDirectory(path)); path = dirname(path)) {
      if (dirname(path) === path) break; // the root itself is missing: mkdir below says why
      missing.unshift(path);
    }
    for (const path of missing) {
      await mkdir(path).catch((error: unknown) => {
        // Made meanwhile by another process, which may not have fsynced it yet: fsynced here all the same.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
      await syncDirectory(dirname(path));
    }
    return missing;
  });
  creating = created.catch(() => {});
  try {
    return await created;
  } finally {
    creations -= 1;
  }
}

/**
 * Writes `bytes` (whole, or as chunks) to `path` so that a crash leaves either the complete file or the previous one: writes a
 * uniquely named temporary file beside it, fsyncs it, renames it into place and fsyncs the directory. On
 * failure the temporary file is removed.
 */
export async function writeFileDurably(
  path: string,
  bytes: Uint8Array | AsyncIterable<Uint8Array>,
  options: WriteFileDurablyOptions = {},
): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(bytes, { signal: options.signal });
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

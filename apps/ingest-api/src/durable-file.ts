import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
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

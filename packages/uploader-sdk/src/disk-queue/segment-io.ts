import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, syncFileData } from '../durable-file.js';
import type { Segment } from './segment.js';
import { segmentFileName } from './segment-files.js';
import type { Durability } from './types.js';

/**
 * The segment file being appended to. Its `segment.size` (what readers may read) is set by the writer
 * once a commit is durable; `written` is how far the file itself goes.
 */
export class SegmentFile {
  readonly segment: Segment;
  /** Bytes written to the file so far (readers see only `segment.size` of them). */
  written = 0;
  readonly #handle: FileHandle;
  readonly #durability: Durability;

  private constructor(segment: Segment, handle: FileHandle, durability: Durability) {
    this.segment = segment;
    this.#handle = handle;
    this.#durability = durability;
  }

  /**
   * Creates the file of a new segment whose first entry will be `firstSeq`. Under `fsync` durability the
   * directory is synced too, so the file survives power loss before any frame is acknowledged in it. A
   * creation that fails leaves no file behind, so the next one can take the same name.
   */
  static async create(directory: string, firstSeq: number, durability: Durability): Promise<SegmentFile> {
    const path = join(directory, segmentFileName(firstSeq));
    const handle = await openNewSegmentFile(path);
    try {
      await syncDirectory(directory, durability);
    } catch (error) {
      const cleanupErrors: unknown[] = [];
      await handle.close().catch((closeError: unknown) => cleanupErrors.push(closeError));
      await removeSegmentFile(path).catch((removeError: unknown) => cleanupErrors.push(removeError));
      if (cleanupErrors.length > 0) {
        throw new AggregateError(
          [error, ...cleanupErrors],
          'creating a queue segment failed, and so did removing its file',
        );
      }
      throw error;
    }
    const segment: Segment = { firstSeq, path, size: 0, sealed: false, live: 0, scannedBytes: 0 };
    return new SegmentFile(segment, handle, durability);
  }

  /** Writes all of `buffer` at the end of what was written; `written` grows only once all of it is. */
  async write(buffer: Buffer): Promise<void> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesWritten } = await this.#handle.write(
        buffer,
        done,
        buffer.length - done,
        this.written + done,
      );
      done += bytesWritten;
    }
    this.written += buffer.length;
  }

  /** Makes what was written durable (fdatasync) under `fsync` durability; a no-op under `os`. */
  async makeDurable(): Promise<void> {
    await syncFileData(this.#handle, this.#durability);
  }

  /**
   * Cuts the file back to `size` bytes and makes that durable under `fsync` durability, so that frames
   * past it are gone after a restart too.
   */
  async truncate(size: number): Promise<void> {
    await this.#handle.truncate(size);
    this.written = size;
    await syncFileData(this.#handle, this.#durability);
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * Opens the file of a new segment for writing. Its name is that of the next seq, which no frame of this
 * queue has yet, and the directory is locked; so a file already there holds nothing of ours unless it has
 * bytes, and an empty one (left by a creation whose cleanup failed) is taken over rather than blocking
 * every later append.
 */
async function openNewSegmentFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const handle = await open(path, 'r+');
    let empty = false;
    try {
      empty = (await handle.stat()).size === 0;
    } finally {
      if (!empty) await handle.close();
    }
    if (!empty) throw error;
    return handle;
  }
}

/** Opens a segment file for reading. */
export function openSegmentForReading(path: string): Promise<FileHandle> {
  return open(path, 'r');
}

/** Deletes a segment file; one already gone is fine. */
export async function removeSegmentFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

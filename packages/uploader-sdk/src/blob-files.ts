import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Durability } from './disk-queue/types.js';
import { syncDirectory, syncFile } from './durable-file.js';
import { QueueFullError } from './errors.js';
import { linkOrCopy } from './link-or-copy.js';

const PARTIAL_SUFFIX = '.partial';

/** A blob's bytes, copied into the uploader's directory. */
export interface BlobCopy {
  /** File name inside the blob directory. */
  readonly file: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the bytes. */
  readonly sha256: string;
}

/**
 * The copies of queued blobs. A copy is written under a temporary name, fsync'd, renamed and the directory
 * fsync'd before it is referenced by a queue entry, so a queue entry never points at a partial file.
 * Bytes of all copies count against a quota.
 */
export class BlobFiles {
  #bytes = 0;
  #reserved = 0;
  /**
   * Copies this process made and has not removed. Orphans can only be left by an earlier process, so
   * these are never swept, however their enqueue and a sweep interleave.
   */
  readonly #created = new Set<string>();

  private constructor(
    readonly directory: string,
    private readonly maxBytes: number,
    private readonly durability: Durability,
  ) {}

  /** Opens (creating) the directory; removes partial copies of a crashed run and counts the rest. */
  static async open(directory: string, maxBytes: number, durability: Durability): Promise<BlobFiles> {
    await mkdir(directory, { recursive: true });
    const files = new BlobFiles(directory, maxBytes, durability);
    for (const name of await readdir(directory)) {
      const path = join(directory, name);
      if (name.endsWith(PARTIAL_SUFFIX)) await rm(path, { force: true });
      else files.#bytes += (await stat(path)).size;
    }
    return files;
  }

  /**
   * Bytes of the copies in `directory` as {@link BlobFiles.bytes} counts them, read without opening it
   * (partial copies do not count; copies removed meanwhile are skipped); 0 when it does not exist.
   */
  static async measure(directory: string): Promise<number> {
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let bytes = 0;
    for (const name of names) {
      if (!name.endsWith(PARTIAL_SUFFIX))
        bytes += (await stat(join(directory, name)).catch(ignoreMissing))?.size ?? 0;
    }
    return bytes;
  }

  /** Bytes of all copies on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Path of a copy. */
  path(file: string): string {
    return join(this.directory, file);
  }

  /**
   * Copies bytes or a regular file into the directory, hashing while copying. A file is copied only up to
   * the size it had when opened: one that yields more (still being written, or a /proc file) is refused
   * rather than allowed past the quota.
   * @param maxBlobBytes the largest blob the server accepts.
   * @throws {TypeError} when `body` names something other than a regular file (a FIFO, a device, a
   *   directory); nothing is read.
   * @throws {RangeError} when the blob is larger than `maxBlobBytes` (the server's limit); nothing is
   *   written.
   * @throws {QueueFullError} when the copy would exceed the quota; nothing is written.
   * @throws {RangeError} when the file yields more bytes than its size said; nothing is left behind.
   */
  async copy(
    id: string,
    body: Uint8Array | string,
    maxBlobBytes = Number.POSITIVE_INFINITY,
  ): Promise<BlobCopy> {
    const source = typeof body === 'string' ? await openRegularFile(body) : undefined;
    try {
      const expected = source === undefined ? (body as Uint8Array).byteLength : source.size;
      if (expected > maxBlobBytes) {
        throw new RangeError(`blob is ${expected} bytes; the server accepts at most ${maxBlobBytes}`);
      }
      if (this.#bytes + this.#reserved + expected > this.maxBytes) {
        throw new QueueFullError(this.maxBytes, expected);
      }
      return await this.#copy(id, source === undefined ? (body as Uint8Array) : source, expected);
    } finally {
      await source?.handle.close();
    }
  }

  /** Copies `expected` bytes (reserved against the quota meanwhile) from `body` into a new copy. */
  async #copy(id: string, body: Uint8Array | OpenedFile, expected: number): Promise<BlobCopy> {
    this.#reserved += expected;
    const file = newFileName(id);
    const partial = this.path(file + PARTIAL_SUFFIX);
    const hash = createHash('sha256');
    let size = 0;
    this.#created.add(file);
    try {
      const handle = await open(partial, 'wx');
      try {
        if (body instanceof Uint8Array) {
          hash.update(body);
          await handle.write(body);
          size = body.byteLength;
        } else {
          // One byte past the expected size is enough to tell that the file yields more than it said.
          const stream = body.handle.createReadStream({
            start: 0,
            end: expected,
            autoClose: false,
            highWaterMark: 256 * 1024,
          });
          for await (const chunk of stream) {
            const bytes = chunk as Buffer;
            if (size + bytes.byteLength > expected) {
              throw new RangeError(
                `${body.path} yields more bytes than the ${expected} its size said (is it still being written?); enqueue a file once it is complete`,
              );
            }
            hash.update(bytes);
            await handle.write(bytes);
            size += bytes.byteLength;
          }
        }
        await syncFile(handle, this.durability);
      } finally {
        await handle.close();
      }
      await rename(partial, this.path(file));
      await syncDirectory(this.directory, this.durability);
    } catch (error) {
      await rm(partial, { force: true });
      // A directory fsync that failed after the rename leaves the copy under its final name.
      await rm(this.path(file), { force: true });
      this.#created.delete(file);
      throw error;
    } finally {
      this.#reserved -= expected;
    }
    this.#bytes += size;
    return { file, size, sha256: hash.digest('hex') };
  }

  /**
   * Queues bytes already on disk again (a requeued dead letter's): links `source` in under a new name (or
   * copies it where links are not supported), counted against the quota like a copy.
   * @throws {QueueFullError} when they would exceed the quota; nothing is written.
   */
  async adopt(id: string, source: string): Promise<{ readonly file: string; readonly size: number }> {
    const { size } = await stat(source);
    if (this.#bytes + this.#reserved + size > this.maxBytes) throw new QueueFullError(this.maxBytes, size);
    this.#reserved += size;
    const file = newFileName(id);
    this.#created.add(file);
    try {
      await linkOrCopy(source, this.path(file));
      await syncDirectory(this.directory, this.durability);
    } catch (error) {
      await rm(this.path(file), { force: true });
      this.#created.delete(file);
      throw error;
    } finally {
      this.#reserved -= size;
    }
    this.#bytes += size;
    return { file, size };
  }

  /** Removes a copy once its blob is acknowledged or dead-lettered (or its enqueue failed). */
  async remove(file: string, size: number): Promise<void> {
    await rm(this.path(file), { force: true });
    this.#created.delete(file);
    this.#bytes = Math.max(0, this.#bytes - size);
  }

  /**
   * Deletes copies no queue entry refers to: left by a crash of an earlier process between copying and
   * appending the entry. Call only when the blob queue held no entries at the call: entries appended
   * while the sweep runs refer to copies this process made, which it never deletes.
   * @returns how many copies were removed.
   */
  async sweepOrphans(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.directory)) {
      if (name.endsWith(PARTIAL_SUFFIX) || this.#created.has(name)) continue;
      const path = join(this.directory, name);
      const size = (await stat(path).catch(ignoreMissing))?.size;
      if (size === undefined) continue;
      await rm(path, { force: true });
      this.#bytes = Math.max(0, this.#bytes - size);
      removed += 1;
    }
    return removed;
  }

  /** True when the copy is still on disk. */
  async exists(file: string): Promise<boolean> {
    try {
      await stat(this.path(file));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}

/** A regular file opened for copying, with its size when opened. */
interface OpenedFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly size: number;
}

/**
 * Opens `path` for reading if it is a regular file. Opened without blocking, so that a FIFO with no writer
 * is refused rather than waited on; checked on the open handle, so that what is read is what was checked.
 * @throws {TypeError} when it is something else: what it yields has no size to check against the quota.
 */
async function openRegularFile(path: string): Promise<OpenedFile> {
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new TypeError(`Expected \`body\` to be a regular file; ${path} is ${describeFileType(info)}`);
    }
    return { path, handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function describeFileType(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not one';
}

/** A copy's file name: unique, so a name is never reused for other bytes. */
function newFileName(id: string): string {
  return `${id}.${randomBytes(6).toString('hex')}`;
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

import { statfs } from 'node:fs/promises';
import { DatabaseUnavailableError } from '../errors.js';

/** How long one reading of the free space serves. */
const READING_MS = 250;

/**
 * Free space on the embedded database's file system, kept above a floor. PGlite does not survive a full
 * disk: the write that runs out fails with an unrelated internal error, and the next one spins at full CPU,
 * deaf even to SIGTERM. So nothing reaches it while the disk is below `minFreeBytes` (plus what an
 * operation is about to write): the request gets 503 with `Retry-After`, and the server answers again as
 * soon as there is room.
 */
export class DiskRoom {
  readonly directory: string;
  readonly minFreeBytes: number;
  #readAt = Number.NEGATIVE_INFINITY;
  #free = Number.POSITIVE_INFINITY;
  /** Bytes operations that passed {@link DiskRoom.reserve} are about to write. */
  #reserved = 0;

  constructor(directory: string, minFreeBytes: number) {
    this.directory = directory;
    this.minFreeBytes = minFreeBytes;
  }

  /**
   * Resolves when the file system has at least `minFreeBytes` plus `bytes` free.
   * @throws {DatabaseUnavailableError} when it has not.
   */
  async require(bytes = 0): Promise<void> {
    const now = Date.now();
    if (now - this.#readAt >= READING_MS) {
      const stats = await statfs(this.directory);
      this.#free = stats.bavail * stats.bsize;
      this.#readAt = now;
    }
    const free = this.#free - this.#reserved;
    if (free - bytes >= this.minFreeBytes) return;
    throw new DatabaseUnavailableError(
      `the embedded database's disk (${this.directory}) has ${free} bytes free${this.#reserved > 0 ? ` besides ${this.#reserved} that writes in progress are taking` : ''}; it takes writes again once more than ${this.minFreeBytes + bytes} are (EMBEDDED_MIN_FREE_BYTES ${this.minFreeBytes}${bytes > 0 ? ` plus ${bytes} for this request` : ''}), so that a full disk cannot wedge it`,
    );
  }

  /**
   * {@link DiskRoom.require} for `bytes`, then counts them as taken until the returned function is called
   * (once they are written, or not): requests checked at once cannot all pass on the same free space.
   */
  async reserve(bytes: number): Promise<() => void> {
    await this.require(bytes);
    this.#reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved -= bytes;
      // What was written now shows in the free space: read it again rather than count the bytes twice
      // or, worse, not at all.
      this.#readAt = Number.NEGATIVE_INFINITY;
    };
  }
}

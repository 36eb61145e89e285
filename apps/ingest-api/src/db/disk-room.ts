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
    if (this.#free - bytes >= this.minFreeBytes) return;
    throw new DatabaseUnavailableError(
      `the embedded database's disk (${this.directory}) has ${this.#free} bytes free; it takes writes again once more than ${this.minFreeBytes + bytes} are (EMBEDDED_MIN_FREE_BYTES ${this.minFreeBytes}${bytes > 0 ? ` plus ${bytes} for this request` : ''}), so that a full disk cannot wedge it`,
    );
  }
}

import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ServerFault, SpoolFullError } from '../errors.js';

/** Options of {@link BlobSpool.open}. */
export interface BlobSpoolOptions {
  /** The spool directory, `DATA_DIR/spool`; each process spools in a subdirectory named by its pid. */
  readonly directory: string;
  /** Most bytes the requests of this process may hold in the spool at once. */
  readonly maxBytes: number;
}

/** One request's share of the spool: a directory of its own and the bytes reserved for it. */
export interface SpoolSession {
  /** The request's directory; its files are removed by {@link SpoolSession.end}. */
  readonly directory: string;
  /** Removes the request's files and returns its bytes to the spool. Idempotent. */
  end(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where verified blob parts wait on disk between their request and the staging transaction.
 * Requests reserve the bytes their manifest declares before any part is read, and the reservations
 * of this process never exceed `maxBytes`: a request that does not fit is refused with
 * {@link SpoolFullError} (503) having written nothing. Files are removed when their request ends,
 * and {@link BlobSpool.open} removes what a crashed process left behind.
 */
export class BlobSpool {
  readonly #directory: string;
  readonly #maxBytes: number;
  #reserved = 0;

  private constructor(directory: string, maxBytes: number) {
    this.#directory = directory;
    this.#maxBytes = maxBytes;
  }

  /**
   * Sweeps `options.directory` (everything but the directories of other live processes, so that
   * servers sharing a `DATA_DIR` keep their uploads) and creates this process's directory.
   */
  static async open(options: BlobSpoolOptions): Promise<BlobSpool> {
    await mkdir(options.directory, { recursive: true });
    for (const name of await readdir(options.directory)) {
      const pid = /^[1-9][0-9]*$/.test(name) ? Number(name) : undefined;
      if (pid !== undefined && pid !== process.pid && isAlive(pid)) continue;
      await rm(join(options.directory, name), { recursive: true, force: true });
    }
    const own = join(options.directory, String(process.pid));
    await mkdir(own);
    return new BlobSpool(own, options.maxBytes);
  }

  /** Bytes reserved by the requests in flight. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /**
   * Reserves `bytes` for one request and gives it a directory.
   * @throws {SpoolFullError} when the reservations in flight leave less than `bytes`.
   */
  async begin(bytes: number): Promise<SpoolSession> {
    if (this.#reserved + bytes > this.#maxBytes) {
      throw new SpoolFullError(
        `the blob spool holds ${this.#reserved} of ${this.#maxBytes} bytes; this request needs ${bytes}`,
      );
    }
    this.#reserved += bytes;
    let directory: string;
    try {
      directory = await mkdtemp(join(this.#directory, 'req-'));
    } catch (error) {
      this.#reserved -= bytes;
      throw spoolFault('create a directory in', error);
    }
    let ended: Promise<void> | undefined;
    return {
      directory,
      end: () => {
        ended ??= rm(directory, { recursive: true, force: true }).finally(() => {
          this.#reserved -= bytes;
        });
        return ended;
      },
    };
  }

  /** Removes this process's directory. */
  async close(): Promise<void> {
    await rm(this.#directory, { recursive: true, force: true });
  }
}

/** A failed spool file operation: a full disk is {@link SpoolFullError} (503), anything else a {@link ServerFault}. */
export function spoolFault(what: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SpoolFullError(`no disk space left to ${what} the blob spool`, { cause: error });
  }
  return new ServerFault(`could not ${what} the blob spool`, { cause: error });
}

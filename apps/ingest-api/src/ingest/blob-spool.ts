import {
  type FileHandle,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tryLock } from 'fs-native-extensions';
import { ServerFault, SpoolFullError } from '../errors.js';

/** The logger methods the spool uses (pino and Fastify loggers fit). */
export interface SpoolLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** Options of {@link BlobSpool.open}. */
export interface BlobSpoolOptions {
  /**
   * The spool directory, `DATA_DIR/spool`; each process spools in a subdirectory named by its pid
   * (`<pid>-<n>` when that name is taken) beside a lock file `sluice-<name>.lock` it holds while it runs.
   */
  readonly directory: string;
  /** Most bytes the requests of this process may hold in the spool at once. */
  readonly maxBytes: number;
  /** Told what the start removed and what it left alone. @default silent */
  readonly logger?: SpoolLogger | undefined;
}

/** One request's share of the spool: a directory of its own and the bytes reserved for it. */
export interface SpoolSession {
  /** The request's directory; its files are removed by {@link SpoolSession.end}. */
  readonly directory: string;
  /** Removes the request's files and returns its bytes to the spool. Idempotent. */
  end(): Promise<void>;
}

// Only names the spool itself creates are ever removed: the spool directory may be shared with anything
// (DATA_DIR=/var makes it /var/spool), and a name alone (a pid) proves nothing across PID namespaces.
const LOCK_FILE = /^sluice-([1-9][0-9]*(?:-[1-9][0-9]*)?)\.lock$/;
const REQUEST_DIRECTORY = /^req-[A-Za-z0-9]{6}$/; // mkdtemp's six characters
const PART_FILE = /^part-[1-9][0-9]*$/;
/** First line of a lock file: a lock file without it (not ours, or its writer died at once) is left alone. */
const LOCK_MARKER = 'sluice blob spool\n';
/** Names tried per process: `<pid>`, `<pid>-2`, … */
const MAX_NAMES = 1000;

const SILENT: SpoolLogger = { info() {}, warn() {} };

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether `handle` is still the file at `path`: a sweeper may have unlinked it before the lock was taken. */
async function isLinkedAt(handle: FileHandle, path: string): Promise<boolean> {
  const [held, current] = await Promise.all([handle.stat(), stat(path).catch(() => undefined)]);
  return current !== undefined && current.ino === held.ino && current.dev === held.dev;
}

/**
 * Removes from the directory of a gone owner only what the spool writes there (`req-XXXXXX/part-N`),
 * then the directory once empty. Returns the paths, relative to `directory`, that were left.
 */
async function removeOwnFiles(directory: string): Promise<string[]> {
  const info = await lstat(directory).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) return [];
  if (!info.isDirectory()) return ['.']; // a file or a link by that name is not the spool's
  const left: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isDirectory() || !REQUEST_DIRECTORY.test(entry.name)) {
      left.push(entry.name);
      continue;
    }
    const request = join(directory, entry.name);
    for (const file of await readdir(request, { withFileTypes: true })) {
      if (file.isFile() && PART_FILE.test(file.name)) await unlink(join(request, file.name));
      else left.push(join(entry.name, file.name));
    }
    await rmdir(request).catch((error: unknown) => {
      if (codeOf(error) !== 'ENOTEMPTY' && codeOf(error) !== 'EEXIST') throw error;
    });
  }
  if (left.length === 0) await rmdir(directory);
  return left;
}

/** What {@link sweepSpool} found: a running owner, a gone one (its spool removed), or no spool of ours. */
interface SweepResult {
  readonly owner: 'running' | 'gone' | 'unknown';
  /** Paths, relative to the spool directory, that were left alone. */
  readonly left: string[];
}

/**
 * Removes the spool whose lock file is `lockName` if its owner is gone: its `req-…/part-…` files, its
 * directory once empty, and the lock file. A lock held by a running process, on this host or in another
 * container sharing the disk, means its owner runs, whatever its pid: that spool is kept.
 */
async function sweepSpool(directory: string, lockName: string, ownerName: string): Promise<SweepResult> {
  const lockPath = join(directory, lockName);
  let handle: FileHandle;
  try {
    // Writable, as a write lock needs; neither created nor truncated.
    handle = await open(lockPath, 'r+');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { owner: 'gone', left: [] }; // another starting server swept it
    return { owner: 'unknown', left: [lockName] }; // e.g. another user's file
  }
  try {
    let locked: boolean;
    try {
      locked = tryLock(handle.fd);
    } catch {
      locked = false; // a file system without locks cannot prove the owner gone
    }
    // Unlinked while we waited for its lock: another sweeper removed it and the name may be taken again.
    if (!locked || !(await isLinkedAt(handle, lockPath))) return { owner: 'running', left: [] };
    const marker = Buffer.alloc(LOCK_MARKER.length);
    await handle.read(marker, 0, marker.length, 0);
    if (marker.toString() !== LOCK_MARKER) return { owner: 'unknown', left: [lockName] };
    const left = await removeOwnFiles(join(directory, ownerName));
    await unlink(lockPath);
    return { owner: 'gone', left: left.map((path) => join(ownerName, path)) };
  } finally {
    // Closing the descriptor releases the lock.
    await handle.close();
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
  readonly #lockPath: string;
  readonly #lock: FileHandle;
  readonly #maxBytes: number;
  #reserved = 0;
  #closed: Promise<void> | undefined;

  private constructor(directory: string, lockPath: string, lock: FileHandle, maxBytes: number) {
    this.#directory = directory;
    this.#lockPath = lockPath;
    this.#lock = lock;
    this.#maxBytes = maxBytes;
  }

  /**
   * Sweeps `options.directory`, then creates this process's directory and takes its lock. The sweep
   * removes only spools whose lock file is no longer held (their process is gone), and in them only
   * the files the spool writes; everything else in the directory is left alone and reported to
   * `options.logger`, so a `DATA_DIR` shared with other data, or with servers in other containers,
   * loses nothing.
   * @throws {ServerFault} when the directory cannot be created or locked ({@link SpoolFullError} when
   * the disk is full).
   */
  static async open(options: BlobSpoolOptions): Promise<BlobSpool> {
    const log = options.logger ?? SILENT;
    const root = options.directory;
    let names: string[];
    try {
      await mkdir(root, { recursive: true });
      names = await readdir(root);
    } catch (error) {
      throw spoolFault('create', error);
    }
    const owners = new Set<string>();
    const gone: string[] = [];
    const left: string[] = [];
    for (const name of names) {
      const owner = LOCK_FILE.exec(name)?.[1];
      if (owner === undefined) continue;
      owners.add(owner).add(name);
      try {
        const result = await sweepSpool(root, name, owner);
        left.push(...result.left);
        if (result.owner === 'unknown') {
          owners.delete(owner);
          owners.delete(name);
        }
        if (result.owner === 'gone') gone.push(owner);
      } catch (error) {
        // What could not be removed now is tried again at the next start.
        log.warn(
          { err: error, directory: join(root, owner) },
          'could not remove the blob spool of a server that is gone',
        );
      }
    }
    left.push(...names.filter((name) => !owners.has(name) && !left.includes(name)));
    if (gone.length > 0) {
      log.info({ directory: root, spools: gone }, 'removed the blob spools of servers that are gone');
    }
    if (left.length > 0) {
      log.warn(
        { directory: root, entries: left.sort() },
        'left alone what the blob spool directory holds that the server did not create',
      );
    }
    return BlobSpool.#claim(root, options.maxBytes);
  }

  /**
   * Creates and locks the first free name of this process: `<pid>`, else `<pid>-2`, … A name is taken
   * when its lock file exists (a running owner, possibly with the same pid in another PID namespace) or
   * when something not ours already has that directory name.
   */
  static async #claim(root: string, maxBytes: number): Promise<BlobSpool> {
    for (let n = 1; n <= MAX_NAMES; n += 1) {
      const name = n === 1 ? String(process.pid) : `${process.pid}-${n}`;
      const lockPath = join(root, `sluice-${name}.lock`);
      let lock: FileHandle;
      try {
        lock = await open(lockPath, 'wx');
      } catch (error) {
        if (codeOf(error) === 'EEXIST') continue;
        throw spoolFault('create a lock file in', error);
      }
      let claimed = false;
      try {
        // A sweeper that opened the fresh file first holds its lock for a moment: take the next name.
        if (tryLock(lock.fd)) {
          await lock.write(
            `${LOCK_MARKER}host ${hostname()}\npid ${process.pid}\nstarted ${new Date().toISOString()}\n`,
            0,
          );
          await mkdir(join(root, name));
          claimed = true;
          return new BlobSpool(join(root, name), lockPath, lock, maxBytes);
        }
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw spoolFault('lock a directory in', error);
      } finally {
        if (!claimed) await unlink(lockPath).finally(() => lock.close());
      }
    }
    throw new ServerFault(`the blob spool ${root} has no free directory name for pid ${process.pid}`);
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
        ended ??= rm(directory, { recursive: true, force: true })
          .catch((error: unknown) => {
            throw spoolFault('remove a request directory from', error);
          })
          .finally(() => {
            this.#reserved -= bytes;
          });
        return ended;
      },
    };
  }

  /** Removes this process's directory, then its lock file. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await rm(this.#directory, { recursive: true, force: true });
        await unlink(this.#lockPath);
      } finally {
        await this.#lock.close();
      }
    })();
    return this.#closed;
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

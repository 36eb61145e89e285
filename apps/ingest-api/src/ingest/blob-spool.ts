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
import { basename, join } from 'node:path';
import { tryLock } from 'fs-native-extensions';
import { RateLimitedError, ServerFault, SpoolFullError } from '../errors.js';

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
/**
 * Most of the spool one source may hold, as a fraction of `maxBytes`; a source that holds nothing may
 * always reserve one request, whatever its size, so a single maximal request is never refused by it.
 */
export const SOURCE_SHARE = 0.5;
/** `Retry-After` of a request refused for its source's share, as for a full spool: its requests free it as they end. */
const SHARE_RETRY_SECONDS = 5;

const SILENT: SpoolLogger = { info() {}, warn() {} };

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** What tells a directory from another made later at the same path. */
async function identityOf(path: string): Promise<string | undefined> {
  const info = await lstat(path, { bigint: true }).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  return info?.isDirectory() ? `${info.dev}:${info.ino}:${info.birthtimeNs}` : undefined;
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

/** A name of the spool directory held by this process: its directory and its locked lock file. */
interface Claim {
  readonly directory: string;
  readonly lockPath: string;
  readonly lock: FileHandle;
  /** {@link identityOf} the directory. */
  readonly identity: string | undefined;
}

/**
 * Where verified blob parts wait on disk between their request and the staging transaction.
 * Requests reserve the bytes their manifest declares before any part is read, and the reservations
 * of this process never exceed `maxBytes`: a request that does not fit is refused with
 * {@link SpoolFullError} (503) having written nothing. One source may hold at most {@link SOURCE_SHARE}
 * of `maxBytes` (one request always): beyond it its requests are refused with {@link RateLimitedError}
 * (429), so that a source with many slow uploads cannot refuse the spool to every other source.
 * Files are removed when their request ends, and {@link BlobSpool.open} removes what a crashed process
 * left behind. When this process's directory or its lock file is removed while it runs (a cleaner of
 * temporary files, an operator), the next request makes them again.
 */
export class BlobSpool {
  readonly #root: string;
  #claim: Claim;
  readonly #maxBytes: number;
  #reserved = 0;
  /** Bytes reserved by each source with requests in flight. */
  readonly #bySource = new Map<string, number>();
  #reclaiming: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  private constructor(root: string, claim: Claim, maxBytes: number) {
    this.#root = root;
    this.#claim = claim;
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
    return new BlobSpool(root, await claimName(root, namesOf()), options.maxBytes);
  }

  /** Bytes reserved by the requests in flight. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /**
   * Reserves `bytes` for one request of `source` and gives it a directory.
   * @throws {RateLimitedError} when `source` already holds bytes and these would take it past its
   * share ({@link SOURCE_SHARE} of `maxBytes`).
   * @throws {SpoolFullError} when the reservations in flight leave less than `bytes`.
   */
  async begin(bytes: number, source: string): Promise<SpoolSession> {
    const held = this.#bySource.get(source) ?? 0;
    const share = Math.floor(this.#maxBytes * SOURCE_SHARE);
    if (bytes > 0 && held > 0 && held + bytes > share) {
      throw new RateLimitedError(
        `source ${source} holds ${held} bytes of the blob spool, at most ${share} with more than one request; this request needs ${bytes}`,
        SHARE_RETRY_SECONDS,
      );
    }
    if (this.#reserved + bytes > this.#maxBytes) {
      throw new SpoolFullError(
        `the blob spool holds ${this.#reserved} of ${this.#maxBytes} bytes; this request needs ${bytes}`,
      );
    }
    this.#reserve(source, bytes);
    let directory: string;
    let claim: Claim;
    try {
      [directory, claim] = await this.#requestDirectory();
    } catch (error) {
      this.#reserve(source, -bytes);
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
            this.#reserve(source, -bytes);
          })
          .then(() => this.#removeIfLeft(claim));
        return ended;
      },
    };
  }

  #reserve(source: string, bytes: number): void {
    this.#reserved += bytes;
    const held = (this.#bySource.get(source) ?? 0) + bytes;
    if (held > 0) this.#bySource.set(source, held);
    else this.#bySource.delete(source);
  }

  /**
   * A new request directory and the name it is in, after making this process's directory and lock
   * file again if they are gone.
   */
  async #requestDirectory(): Promise<[string, Claim]> {
    // Without its lock file the directory would be no one's: another server could take its name.
    if (!(await isLinkedAt(this.#claim.lock, this.#claim.lockPath))) await this.#reclaim();
    let claim = this.#claim;
    try {
      return [await mkdtemp(join(claim.directory, 'req-')), claim];
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
    await this.#reclaim();
    claim = this.#claim;
    return [await mkdtemp(join(claim.directory, 'req-')), claim];
  }

  /** Makes what was removed of this process's spool again; concurrent callers share one attempt. */
  #reclaim(): Promise<void> {
    this.#reclaiming ??= this.#makeAgain().finally(() => {
      this.#reclaiming = undefined;
    });
    return this.#reclaiming;
  }

  async #makeAgain(): Promise<void> {
    if (this.#closed !== undefined) throw new ServerFault('the blob spool is closed');
    const current = this.#claim;
    if (await isLinkedAt(current.lock, current.lockPath)) {
      // Only the directory is gone; the lock file keeps its name ours.
      await mkdir(current.directory).catch((error: unknown) => {
        if (codeOf(error) !== 'EEXIST') throw error;
      });
      this.#claim = { ...current, identity: await identityOf(current.directory) };
      return;
    }
    // The lock file is gone too: take a name again, the same one while it is free (keeping the
    // directory of the requests in flight when it is still there), so that a sweep sees it held.
    const name = basename(current.directory);
    this.#claim = await claimName(this.#root, namesOf(name), { name, identity: current.identity });
    await current.lock.close();
  }

  /**
   * Removes the directory of `claim` once a name taken again has replaced it and its last request has
   * ended, if it is still the one this process made (its lock file is gone: no sweep would remove it).
   */
  async #removeIfLeft(claim: Claim): Promise<void> {
    if (claim === this.#claim || claim.directory === this.#claim.directory) return;
    if ((await identityOf(claim.directory).catch(() => undefined)) !== claim.identity) return;
    await rmdir(claim.directory).catch(() => {}); // requests still in flight in it: the last one removes it
  }

  /** Removes this process's directory, then its lock file, while they are still its own. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#reclaiming?.catch(() => {});
      const { directory, lockPath, lock, identity } = this.#claim;
      try {
        if (await isLinkedAt(lock, lockPath)) {
          if ((await identityOf(directory)) === identity)
            await rm(directory, { recursive: true, force: true });
          await unlink(lockPath);
        }
      } finally {
        await lock.close();
      }
    })();
    return this.#closed;
  }
}

/** This process's names: `first` if given, then `<pid>`, `<pid>-2`, … */
function* namesOf(first?: string): Generator<string> {
  if (first !== undefined) yield first;
  for (let n = 1; n <= MAX_NAMES; n += 1) {
    const name = n === 1 ? String(process.pid) : `${process.pid}-${n}`;
    if (name !== first) yield name;
  }
}

/**
 * Creates and locks the first free name of `names` in `root`. A name is taken when its lock file
 * exists (a running owner, possibly with the same pid in another PID namespace) or when something
 * already has that directory name, unless it is `own`'s directory, still the one this process made.
 */
async function claimName(
  root: string,
  names: Iterable<string>,
  own?: { readonly name: string; readonly identity: string | undefined },
): Promise<Claim> {
  try {
    await mkdir(root, { recursive: true });
  } catch (error) {
    throw spoolFault('create', error);
  }
  for (const name of names) {
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
        const directory = join(root, name);
        try {
          await mkdir(directory);
        } catch (error) {
          const ours = own?.name === name && own.identity !== undefined;
          if (!ours || codeOf(error) !== 'EEXIST' || (await identityOf(directory)) !== own.identity)
            throw error;
        }
        const identity = await identityOf(directory);
        claimed = true;
        return { directory, lockPath, lock, identity };
      }
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw spoolFault('lock a directory in', error);
    } finally {
      if (!claimed) await unlink(lockPath).finally(() => lock.close());
    }
  }
  throw new ServerFault(`the blob spool ${root} has no free directory name for pid ${process.pid}`);
}

/** A failed spool file operation: a full disk is {@link SpoolFullError} (503), anything else a {@link ServerFault}. */
export function spoolFault(what: string, error: unknown): Error {
  if (error instanceof SpoolFullError || error instanceof ServerFault) return error; // already told
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SpoolFullError(`no disk space left to ${what} the blob spool`, { cause: error });
  }
  return new ServerFault(`could not ${what} the blob spool`, { cause: error });
}

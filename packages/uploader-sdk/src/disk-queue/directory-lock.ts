import { constants } from 'node:fs';
import { type FileHandle, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fsNative from 'fs-native-extensions';
import { QueueLockedError } from '../errors.js';

/**
 * File name of the lock inside an owned directory. The owner holds an OS lock on it for as long as the
 * directory is open; its text (pid, boot id, host, since when) only serves error messages.
 */
export const LOCK_FILE = 'queue.lock';

/** Rounds of "the file we locked was just removed by its releasing owner" before giving up. */
const ACQUIRE_ATTEMPTS = 5;

// Windows locks are mandatory: a lock over the text would keep other processes from reading who holds
// it, so there the lock covers one byte far past it. POSIX (flock on macOS, OFD locks on Linux) locks the
// whole file, which reading ignores.
const LOCK_RANGE: readonly [offset: number, length: number] =
  process.platform === 'win32' ? [2 ** 31, 1] : [0, 0];

/** Directories locked by this process, with since when, so a second open here fails before touching the file. */
const lockedHere = new Map<string, string>();

/** An acquired directory lock; `release` removes the lock file and lets the OS lock go. */
export interface DirectoryLock {
  release(): Promise<void>;
}

interface LockOwner {
  readonly pid: number | undefined;
  readonly host: string | undefined;
  readonly since: string | undefined;
}

/** Who a directory's lock file names, read without taking the lock (for messages, never for locking). */
export interface LockHolder extends LockOwner {
  /**
   * Whether that process still runs: `true`/`false` when the lock file was written on this host since its
   * last boot (checked by pid), `undefined` when that cannot be told (another host, no boot id). A lock
   * file left by a killed process does not keep anyone out: the kernel released its lock.
   */
  readonly running: boolean | undefined;
}

let bootId: Promise<string> | undefined;

/** The boot id (Linux), written for people reading the lock file; empty where the system does not say. */
function currentBootId(): Promise<string> {
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  return bootId;
}

function parseOwner(text: string): LockOwner {
  const [pidLine = '', , hostLine = '', sinceLine = ''] = text.split('\n');
  const pid = Number.parseInt(pidLine, 10);
  return {
    pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined,
    host: hostLine.trim() || undefined,
    since: sinceLine.trim() || undefined,
  };
}

/** Who the lock file says holds it; nothing when it cannot be read (e.g. its owner is still writing it). */
async function readOwner(path: string): Promise<LockOwner> {
  try {
    return parseOwner(await readFile(path, 'utf8'));
  } catch {
    return { pid: undefined, host: undefined, since: undefined };
  }
}

/**
 * What the lock file of `directory` says, without locking anything; `undefined` when there is none (no
 * process has the directory open, or the last one closed it cleanly).
 */
export async function readLockHolder(directory: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, LOCK_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const owner = parseOwner(text);
  const writtenBoot = text.split('\n')[1]?.trim() ?? '';
  const sameBoot = owner.host === hostname() && writtenBoot !== '' && writtenBoot === (await currentBootId());
  return { ...owner, running: sameBoot && owner.pid !== undefined ? processRuns(owner.pid) : undefined };
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedError(directory: string, owner: LockOwner): QueueLockedError {
  return new QueueLockedError(directory, owner.pid, {
    ...(owner.host === undefined ? {} : { ownerHost: owner.host }),
    ...(owner.since === undefined ? {} : { lockedSince: owner.since }),
  });
}

/**
 * Opens the lock file and tries to lock it. `held` when another open file holds the lock; `gone` when the
 * file was removed (by an owner releasing it) between our open and our lock, so the lock guards nothing.
 */
async function tryAcquire(path: string): Promise<FileHandle | 'held' | 'gone'> {
  const handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    if (!fsNative.tryLock(handle.fd, ...LOCK_RANGE)) {
      await handle.close();
      return 'held';
    }
    const locked = await handle.stat();
    const current = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (current === undefined || current.ino !== locked.ino || current.dev !== locked.dev) {
      await handle.close();
      return 'gone';
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Takes exclusive ownership of `directory` (which must exist) for this process with an OS lock on its lock
 * file (OFD lock on Linux, flock on macOS, LockFileEx on Windows) held open until `release`. The kernel
 * drops the lock when the process dies, however it dies, so no pid or boot id is ever guessed stale:
 * two containers that both run as pid 1 on one volume still exclude each other. Throws `QueueLockedError`
 * naming the holder (from the lock file's text) when another process, or this one, holds it.
 */
export async function lockDirectory(directory: string): Promise<DirectoryLock> {
  const heldSince = lockedHere.get(directory);
  if (heldSince !== undefined) {
    throw lockedError(directory, { pid: process.pid, host: hostname(), since: heldSince });
  }
  const since = new Date().toISOString();
  lockedHere.set(directory, since);
  const path = join(directory, LOCK_FILE);
  let handle: FileHandle | undefined;
  try {
    for (let attempt = 0; handle === undefined; attempt += 1) {
      const acquired = await tryAcquire(path);
      if (acquired === 'held' || (acquired === 'gone' && attempt + 1 >= ACQUIRE_ATTEMPTS)) {
        throw lockedError(directory, await readOwner(path));
      }
      if (acquired !== 'gone') handle = acquired;
    }
    const text = `${process.pid}\n${await currentBootId()}\n${hostname()}\n${since}\n`;
    await handle.truncate(0);
    await handle.write(text, 0).catch((error: NodeJS.ErrnoException) => {
      // The text only names the owner for people and `sluice status`; the OS lock is what excludes. A
      // full disk must not keep the queue closed: delivering its backlog is what frees the space.
      if (error.code !== 'ENOSPC' && error.code !== 'EDQUOT') throw error;
    });
  } catch (error) {
    await handle?.close();
    lockedHere.delete(directory);
    throw error;
  }
  const owned = handle;
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        // Removed while still locked: whoever opens the path next creates a new file, and whoever had
        // opened this one sees it is gone once it gets the lock.
        await unlink(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      } finally {
        try {
          fsNative.unlock(owned.fd, ...LOCK_RANGE);
        } finally {
          await owned.close();
          lockedHere.delete(directory);
        }
      }
    },
  };
}

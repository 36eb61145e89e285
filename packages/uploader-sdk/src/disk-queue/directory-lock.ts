import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { QueueLockedError } from '../errors.js';

/** File name of the lock inside an owned directory: the owner's pid, then the boot id of the machine. */
export const LOCK_FILE = 'queue.lock';

/** A lock file whose content is unreadable is left alone this long, as its owner may still be writing it. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;
const TAKEOVER_ATTEMPTS = 5;

/** Directories locked by this process, so a second open in the same process fails before touching the file. */
const lockedHere = new Set<string>();

/** An acquired directory lock; `release` removes the lock file. */
export interface DirectoryLock {
  release(): Promise<void>;
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
 * Identifies the current boot (Linux), so that a lock written before a reboot or power loss is known to
 * be stale even if its pid now belongs to another live process. Empty where the system does not say.
 */
let bootId: Promise<string> | undefined;

function currentBootId(): Promise<string> {
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  return bootId;
}

async function fromAnotherBoot(owner: LockOwner): Promise<boolean> {
  const current = await currentBootId();
  return owner.bootId !== '' && current !== '' && owner.bootId !== current;
}

interface LockOwner {
  readonly pid: number | undefined;
  readonly bootId: string;
  readonly text: string;
}

function parseOwner(text: string): LockOwner {
  const [pidLine = '', bootLine = ''] = text.split('\n');
  const pid = Number.parseInt(pidLine, 10);
  return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined, bootId: bootLine.trim(), text };
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return parseOwner(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function createLockFile(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n${await currentBootId()}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Moves a stale lock file out of the way. The rename is atomic, so of several processes taking over the
 * same stale lock only one moves it; if what was moved turns out to be a fresh lock (someone took over
 * first), it is linked back and the directory counts as locked.
 */
async function removeStaleLock(path: string, staleText: string, directory: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== staleText) {
    try {
      await link(aside, path);
    } finally {
      await unlink(aside);
    }
    throw new QueueLockedError(directory, parseOwner(moved).pid);
  }
  await unlink(aside);
}

/**
 * Takes exclusive ownership of `directory` (which must exist) for this process: creates the lock file
 * with O_EXCL, takes over a lock whose owner is no longer alive, and otherwise throws `QueueLockedError`
 * naming the owner's pid. A second lock of the same directory in this process fails too.
 */
export async function lockDirectory(directory: string): Promise<DirectoryLock> {
  if (lockedHere.has(directory)) throw new QueueLockedError(directory, process.pid);
  lockedHere.add(directory);
  const path = join(directory, LOCK_FILE);
  try {
    for (let attempt = 0; ; attempt += 1) {
      if (await createLockFile(path)) break;
      const owner = await readOwner(path);
      if (owner === undefined) continue;
      if (attempt >= TAKEOVER_ATTEMPTS) throw new QueueLockedError(directory, owner.pid);
      if (owner.pid === undefined) {
        const { mtimeMs } = await stat(path);
        if (Date.now() - mtimeMs < UNREADABLE_LOCK_GRACE_MS) throw new QueueLockedError(directory, undefined);
      } else if (owner.pid !== process.pid && isAlive(owner.pid) && !(await fromAnotherBoot(owner))) {
        throw new QueueLockedError(directory, owner.pid);
      }
      // Our own pid without an in-process owner is a lock left by an earlier process that had our pid
      // (containers restart as pid 1), so it is as stale as a dead owner's or one from before a reboot.
      await removeStaleLock(path, owner.text, directory);
    }
  } catch (error) {
    lockedHere.delete(directory);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        const owner = await readOwner(path);
        if (owner?.pid === process.pid) await unlink(path);
      } finally {
        lockedHere.delete(directory);
      }
    },
  };
}

import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tryLock } from 'fs-native-extensions';

/** The file, inside the PGlite directory, whose lock marks the directory as in use. */
export const EMBEDDED_LOCK_FILE = 'sluice.lock';

/** Another process (or another open database in this one) is using the embedded database directory. */
export class EmbeddedDatabaseLockedError extends Error {
  override name = 'EmbeddedDatabaseLockedError' as const;
  /** The PGlite directory. */
  readonly directory: string;
  /** The process id written by the holder, when readable. */
  readonly holderPid: number | undefined;

  constructor(directory: string, holderPid: number | undefined) {
    const holder = holderPid === undefined ? 'another process' : `another process (pid ${holderPid})`;
    super(
      `the embedded database in ${directory} is in use by ${holder}, probably a running server. ` +
        'Embedded PGlite can be opened by one process at a time: stop the server and run this again, ' +
        'or use PostgreSQL (set DATABASE_URL), where servers and commands work side by side.',
    );
    this.directory = directory;
    this.holderPid = holderPid;
  }
}

/** A held lock on an embedded database directory. */
export interface EmbeddedLock {
  /** Releases the lock. Idempotent. */
  release(): Promise<void>;
}

/**
 * Locks the embedded database directory `directory` for this process: an exclusive OS-level lock on
 * `directory/sluice.lock`, held until {@link EmbeddedLock.release} or the process ends (the OS drops it
 * with the process, so a crash leaves no stale lock). The holder's pid is written into the file so the
 * next opener's error can name it.
 * @throws {EmbeddedDatabaseLockedError} when another holder has it.
 */
export async function lockEmbeddedDatabase(directory: string): Promise<EmbeddedLock> {
  const path = join(directory, EMBEDDED_LOCK_FILE);
  // 'a+' neither truncates (the holder's pid stays readable) nor fails when the file exists.
  const handle = await open(path, 'a+');
  let locked = false;
  try {
    locked = tryLock(handle.fd);
  } finally {
    if (!locked) await handle.close();
  }
  if (!locked) {
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    throw new EmbeddedDatabaseLockedError(directory, Number.isSafeInteger(pid) ? pid : undefined);
  }
  await handle.truncate(0);
  await handle.write(`${process.pid}\n`, 0);
  let released: Promise<void> | undefined;
  return {
    release() {
      // Closing the descriptor releases the lock.
      released ??= handle.close();
      return released;
    },
  };
}

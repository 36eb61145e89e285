import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileDurably } from '../durable-file.js';
import { DatabaseStartError } from '../errors.js';
import { EMBEDDED_LOCK_FILE } from './embedded-lock.js';

/**
 * The file, inside the PGlite directory, that marks what else is in it as a database this server is
 * still creating (from the template or with initdb). Written before the first file of the database and
 * removed once the database opens, before anything is stored in it: a start that finds it starts the
 * creation over, and no directory that ever held items carries it.
 */
export const EMBEDDED_CREATING_FILE = 'sluice-creating';

/**
 * What a start finds in the PGlite directory: a database (PG_VERSION), nothing but the server's own
 * files, or what a start interrupted while creating the database left.
 */
export type EmbeddedDirectoryState = 'database' | 'empty' | 'interrupted';

/** The server's own entries: its lock, the creation marker, and a marker write a crash cut short. */
function isOwnEntry(entry: string): boolean {
  return (
    entry === EMBEDDED_LOCK_FILE ||
    entry === EMBEDDED_CREATING_FILE ||
    (entry.startsWith(`${EMBEDDED_CREATING_FILE}.`) && entry.endsWith('.tmp'))
  );
}

/**
 * Says what the PGlite directory `dir` holds. Anything else without PG_VERSION (a database that lost
 * it, files someone put there) is never taken for empty: overwriting it could destroy stored items.
 * @throws {DatabaseStartError} when `dir` holds files but no PG_VERSION and no creation marker, saying
 * what to do; nothing in it is changed.
 */
export async function embeddedDirectoryState(dir: string): Promise<EmbeddedDirectoryState> {
  const entries = (await readdir(dir)).sort();
  if (entries.includes(EMBEDDED_CREATING_FILE)) return 'interrupted';
  if (entries.includes('PG_VERSION')) return 'database';
  const found = entries.filter((entry) => !isOwnEntry(entry));
  if (found.length === 0) return 'empty';
  const shown =
    found.length > 5 ? `${found.slice(0, 5).join(', ')} and ${found.length - 5} more` : found.join(', ');
  throw new DatabaseStartError(
    `the embedded database directory ${dir} holds files (${shown}) but no PG_VERSION, the file that marks a PostgreSQL data directory, so nothing in it was opened or changed: ` +
      'if it held a database, restore PG_VERSION from a backup of this directory; to start with an empty database, move the directory away (or point DATA_DIR elsewhere)',
  );
}

/**
 * Marks `dir` as holding a database being created, durably, before anything of the database is
 * written. Call {@link finishCreating} once the database opens.
 */
export async function startCreating(dir: string): Promise<void> {
  await writeFileDurably(
    join(dir, EMBEDDED_CREATING_FILE),
    new TextEncoder().encode(
      'The embedded database is being created in this directory; a start that finds this file creates it again.\n',
    ),
  );
}

/** Removes everything a creation wrote into `dir` (marked by {@link startCreating}), keeping the lock and the marker. */
export async function discardCreation(dir: string): Promise<void> {
  for (const entry of await readdir(dir))
    if (!isOwnEntry(entry)) await rm(join(dir, entry), { recursive: true, force: true });
}

/**
 * Removes the creation marker of `dir`, durably: after this the directory is a database that is never
 * overwritten, so it must not reach the disk after items do.
 */
export async function finishCreating(dir: string): Promise<void> {
  await rm(join(dir, EMBEDDED_CREATING_FILE));
  await syncDirectory(dir);
}

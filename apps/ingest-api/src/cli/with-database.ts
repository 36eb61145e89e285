import { loadConfig } from '../config.js';
import { sqlStateOf } from '../db/connection-errors.js';
import { createDatabase, type Database } from '../db/database.js';
import { EmbeddedDatabaseLockedError } from '../db/embedded-lock.js';
import { ConfigError, DatabaseStartError, MigrationsMissingError } from '../errors.js';

/**
 * Runs a command on the configured database (`DATABASE_URL`, else the embedded one in `DATA_DIR`) and
 * closes it. `body` returns the exit code (default 0). A bad configuration, an embedded database a
 * running server holds, or a database the server refuses to start on, ends the command with its message
 * on stderr and exit code 1.
 */
export async function withDatabase(
  body: (db: Database) => Promise<number | undefined>,
  { readOnly = false }: { readonly readOnly?: boolean } = {},
): Promise<void> {
  let db: Database;
  try {
    db = await createDatabase(loadConfig(process.env).db, {
      // A command's stdout is its output: how the database was made goes to stderr, and only when it
      // needs attention.
      log: { info: () => {}, warn: (_details, message) => process.stderr.write(`sluice: ${message}\n`) },
      // A command that only reads changes nothing: no migrations (which may lock tables for minutes, or
      // plant tables in another application's database when DATABASE_URL is mistyped).
      migrate: !readOnly,
    });
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof EmbeddedDatabaseLockedError ||
      error instanceof DatabaseStartError
    ) {
      process.stderr.write(`sluice: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  try {
    if (readOnly && !(await hasEveryMigration(db))) {
      process.stderr.write(
        "sluice: this database does not hold every migration of this build (a database the server never ran on, or an older server's); nothing was changed: start this build's server on it once, or check DATABASE_URL\n",
      );
      process.exitCode = 1;
      return;
    }
    process.exitCode = (await body(db)) ?? 0;
  } finally {
    await db.close();
  }
}

/** Whether the database has every migration this build ships (false too when it has none of Sluice's). */
async function hasEveryMigration(db: Database): Promise<boolean> {
  try {
    await db.ping();
    return true;
  } catch (error) {
    if (error instanceof MigrationsMissingError) return false;
    // No migrations table at all: 3F000 (no schema "drizzle") or 42P01 (no such table).
    const state = sqlStateOf(error);
    if (state === '3F000' || state === '42P01') return false;
    throw error;
  }
}

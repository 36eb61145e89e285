import { loadConfig } from '../config.js';
import { createDatabase, type Database } from '../db/database.js';
import { EmbeddedDatabaseLockedError } from '../db/embedded-lock.js';
import { ConfigError, DatabaseStartError } from '../errors.js';

/**
 * Runs a command on the configured database (`DATABASE_URL`, else the embedded one in `DATA_DIR`) and
 * closes it. `body` returns the exit code (default 0). A bad configuration, an embedded database a
 * running server holds, or a database the server refuses to start on, ends the command with its message
 * on stderr and exit code 1.
 */
export async function withDatabase(body: (db: Database) => Promise<number | undefined>): Promise<void> {
  let db: Database;
  try {
    db = await createDatabase(loadConfig(process.env).db, {
      // A command's stdout is its output: how the database was made goes to stderr, and only when it
      // needs attention.
      log: { info: () => {}, warn: (_details, message) => process.stderr.write(`sluice: ${message}\n`) },
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
    process.exitCode = (await body(db)) ?? 0;
  } finally {
    await db.close();
  }
}

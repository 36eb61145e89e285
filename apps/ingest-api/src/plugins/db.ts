import fp from 'fastify-plugin';
import type { DbConfig } from '../config.js';
import { retryWhileUnavailable } from '../db/connect-retry.js';
import { sqlStateOf } from '../db/connection-errors.js';
import { createDatabase, type Database, type DatabaseLog } from '../db/database.js';
import { DatabaseStartError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The database, migrated. */
    db: Database;
  }
}

/** Options of {@link dbPlugin}. */
export interface DbPluginOptions {
  readonly config: DbConfig;
}

/** `host:port` of a PostgreSQL URL, never its credentials. */
function serverOf(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || '5432'}`;
  } catch {
    return 'unparsable DATABASE_URL';
  }
}

// SQLSTATE classes of a connection PostgreSQL refuses for good: 28 bad credentials, 3D no such database.
const REFUSED_CONNECTION_CLASSES = new Set(['28', '3D']);

/** {@link createDatabase}, with a refused connection as a {@link DatabaseStartError} that says why. */
async function openOrExplain(config: DbConfig, log: DatabaseLog): Promise<Database> {
  try {
    return await createDatabase(config, { log });
  } catch (error) {
    const state = sqlStateOf(error);
    if (state === undefined || !REFUSED_CONNECTION_CLASSES.has(state.slice(0, 2))) throw error;
    const server = config.url === undefined ? 'the database' : serverOf(config.url);
    const message = error instanceof Error ? error.message : String(error);
    throw new DatabaseStartError(`${server} refused the connection (${state}): ${message}`, { cause: error });
  }
}

/**
 * Opens the database (PostgreSQL or embedded PGlite, locked to this process), applies migrations and
 * closes it when the app closes. An unreachable PostgreSQL is retried with backoff for
 * `config.connectRetryMs`, one warning line per retry. API keys are the auth plugin's business.
 * @throws {DatabaseStartError} when PostgreSQL stayed unreachable that long or refused the connection.
 */
export const dbPlugin = fp<DbPluginOptions>(
  async (app, { config }) => {
    const server = config.url === undefined ? undefined : serverOf(config.url);
    const db = await retryWhileUnavailable(() => openOrExplain(config, app.log), {
      totalMs: config.connectRetryMs,
      onRetry: ({ attempt, retryInMs, reason }) =>
        app.log.warn(
          { database: server, attempt, retryInMs, reason },
          `database ${server} unreachable (${reason}); retry ${attempt} in ${(retryInMs / 1000).toFixed(1)} s`,
        ),
    });
    app.addHook('onClose', () => db.close());
    app.decorate('db', db);
    app.log.info({ database: db.kind }, 'database ready');
  },
  { name: 'sluice-db' },
);

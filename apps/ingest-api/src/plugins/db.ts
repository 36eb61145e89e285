import fp from 'fastify-plugin';
import { seedApiKeys } from '../auth/api-keys.js';
import { type Config, DEV_API_KEY } from '../config.js';
import { createDatabase, type Database } from '../db/database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The database, migrated and seeded with the configured API keys. */
    db: Database;
  }
}

/** Options of {@link dbPlugin}. */
export interface DbPluginOptions {
  readonly config: Config;
}

/**
 * Opens the database (PostgreSQL or embedded PGlite), applies migrations, seeds `API_KEYS` (or the
 * development key when unset) and closes the pool when the app closes.
 */
export const dbPlugin = fp<DbPluginOptions>(
  async (app, { config }) => {
    const db = await createDatabase(config);
    app.addHook('onClose', () => db.close());
    app.decorate('db', db);
    if (config.apiKeys === undefined) {
      app.log.warn(
        { source: DEV_API_KEY.source },
        `API_KEYS is unset: accepting the development key "${DEV_API_KEY.key}" for source "${DEV_API_KEY.source}". ` +
          'Set API_KEYS=source:key before exposing this server.',
      );
    }
    await seedApiKeys(db, config.apiKeys ?? [DEV_API_KEY]);
    app.log.info({ database: db.kind }, 'database ready');
  },
  { name: 'sluice-db' },
);

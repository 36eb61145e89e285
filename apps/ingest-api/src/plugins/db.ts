import fp from 'fastify-plugin';
import type { DbConfig } from '../config.js';
import { createDatabase, type Database } from '../db/database.js';

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

/**
 * Opens the database (PostgreSQL or embedded PGlite, locked to this process), applies migrations and
 * closes it when the app closes. API keys are the auth plugin's business.
 */
export const dbPlugin = fp<DbPluginOptions>(
  async (app, { config }) => {
    const db = await createDatabase(config);
    app.addHook('onClose', () => db.close());
    app.decorate('db', db);
    app.log.info({ database: db.kind }, 'database ready');
  },
  { name: 'sluice-db' },
);

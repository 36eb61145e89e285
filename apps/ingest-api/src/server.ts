import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { grantsDevKey } from './auth/config-keys.js';
import {
  adminKeyOf,
  type Config,
  DEV_ADMIN_KEY,
  DEV_API_KEY,
  grantsDevAdminKey,
  loadConfig,
} from './config.js';
import { EmbeddedDatabaseLockedError } from './db/embedded-lock.js';
import { ConfigError, DatabaseStartError } from './errors.js';

/** Start failures an operator fixes by configuration or by waiting: one line, no stack. */
function isExpectedStartFailure(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
    error instanceof EmbeddedDatabaseLockedError ||
    error instanceof DatabaseStartError
  );
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
    // A worker serves no admin routes; every other role needs the admin key before anything opens.
    if (config.role !== 'worker') adminKeyOf(config.admin);
  } catch (error) {
    // No log level yet: the configuration is what failed.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sluice ingest-api: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = pino({ level: config.logLevel });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { logger });
  } catch (error) {
    // An unexpected failure keeps its stack, inside its one JSON line.
    if (isExpectedStartFailure(error)) logger.fatal({ error: error.name }, `not starting: ${error.message}`);
    else logger.fatal({ err: error }, 'not starting: unexpected error');
    process.exitCode = 1;
    return;
  }

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining in-flight requests');
    app.close().then(
      () => {
        app.log.info('shut down cleanly');
        process.exitCode = 0;
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  // Fastify names every address a wildcard host answers on; the line after it says what was bound.
  try {
    await app.listen({
      port: config.http.port,
      host: config.http.host,
      listenTextResolver: (address) => `reachable at ${address}`,
    });
  } catch (error) {
    // The worker, the database and its listeners are open by now: close them, or the process stays.
    logger.fatal({ error: (error as Error).name }, `not starting: ${(error as Error).message}`);
    await app.close();
    process.exitCode = 1;
    return;
  }
  const bound = app.server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}`;
  app.log.info({ url, role: config.role }, `Sluice ingest API listening on ${url}`);
  if (config.db.url === undefined) {
    app.log.warn(
      { directory: config.db.embeddedDirectory },
      'embedded database (PGlite): its writes are not flushed to disk, so a power loss or an OS crash can lose items it answered stored (a killed server loses nothing); set DATABASE_URL to PostgreSQL for data that must survive those',
    );
  }
  if (config.role !== 'worker' && grantsDevKey(config.auth)) {
    app.log.warn(
      `development key: Authorization: Bearer ${DEV_API_KEY.key} (source "${DEV_API_KEY.source}")`,
    );
  }
  if (config.role !== 'worker' && grantsDevAdminKey(config.admin)) {
    app.log.warn(
      `!!! ADMIN_KEY is unset: the admin API and console accept the development admin key: Authorization: Bearer ${DEV_ADMIN_KEY} (loopback only; set ADMIN_KEY before exposing this server) !!!`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

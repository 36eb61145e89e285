import { buildApp } from './app.js';
import { grantsDevKey } from './auth/config-keys.js';
import { DEV_API_KEY, loadConfig } from './config.js';
import { EmbeddedDatabaseLockedError } from './db/embedded-lock.js';
import { ConfigError } from './errors.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await buildApp(config);

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

  const address = await app.listen({ port: config.http.port, host: config.http.host });
  app.log.info({ url: address, role: config.role }, `Sluice ingest API listening on ${address}`);
  if (config.role !== 'worker' && grantsDevKey(config.auth)) {
    app.log.warn(
      `development key: Authorization: Bearer ${DEV_API_KEY.key} (source "${DEV_API_KEY.source}")`,
    );
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof EmbeddedDatabaseLockedError)
    process.stderr.write(`sluice ingest-api: ${error.message}\n`);
  else console.error(error);
  process.exitCode = 1;
});

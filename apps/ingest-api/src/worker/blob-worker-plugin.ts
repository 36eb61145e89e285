import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createObjectStore } from '../object-store/create-object-store.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { registerBlobMetrics } from './blob-metrics.js';
import { BlobWorker } from './blob-worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The blob worker of this process; present when `ROLE` is `worker` or `all`. */
    blobWorker: BlobWorker | undefined;
  }
}

/** Options of {@link blobWorkerPlugin}. */
export interface BlobWorkerPluginOptions {
  readonly config: Config;
  /** Object store to upload to. @default the one `config` describes (S3 or `DATA_DIR/objects`) */
  readonly objectStore?: ObjectStore | undefined;
}

/**
 * Registers the blob metrics and, when `config.role` is `worker` or `all`, runs a {@link BlobWorker}:
 * started once the app is ready, stopped (leases handed back) before the database closes.
 * Needs the db and metrics plugins.
 */
export const blobWorkerPlugin = fp<BlobWorkerPluginOptions>(
  async (app, { config, objectStore }) => {
    const hooks = registerBlobMetrics(app.metrics.registry, app.db, app.log, {
      cacheMs: config.metricsCacheMs,
    });
    if (config.role === 'api') {
      app.decorate('blobWorker', undefined);
      return;
    }
    const store = objectStore ?? createObjectStore(config);
    const worker = new BlobWorker({
      db: app.db,
      objectStore: store,
      concurrency: config.workerConcurrency,
      pollIntervalMs: config.workerPollIntervalMs,
      leaseMs: config.workerLeaseMs,
      maxAttempts: config.workerMaxAttempts,
      backoffBaseMs: config.workerBackoffBaseMs,
      logger: app.log.child({ component: 'blob-worker' }),
      hooks,
    });
    app.decorate('blobWorker', worker);
    app.addHook('onReady', async () => worker.start());
    // preClose runs while the database is still open, so the leases can be handed back.
    app.addHook('preClose', async () => worker.stop());
    app.addHook('onClose', async () => {
      if (objectStore === undefined) await store.close();
    });
  },
  { name: 'sluice-blob-worker', dependencies: ['sluice-db', 'sluice-metrics'] },
);

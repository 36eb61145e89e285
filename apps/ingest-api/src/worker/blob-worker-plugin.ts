import fp from 'fastify-plugin';
import type { Config, MetricsConfig, WorkerConfig } from '../config.js';
import { createObjectStore } from '../object-store/create-object-store.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { registerBlobMetrics } from './blob-metrics.js';
import { BlobWorker } from './blob-worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The blob worker of this process; present when `ROLE` is `worker` or `all`. */
    blobWorker: BlobWorker | undefined;
    /** The object store blobs are uploaded to (the admin API reads uploaded blobs from it). */
    objectStore: ObjectStore;
  }
}

/** Options of {@link blobWorkerPlugin}. */
export interface BlobWorkerPluginOptions {
  /** Whether this process runs a worker: not when `api`. */
  readonly role: Config['role'];
  readonly worker: WorkerConfig;
  readonly metrics: MetricsConfig;
  /** The object store to create when {@link BlobWorkerPluginOptions.objectStore} is not given. */
  readonly storage: Pick<Config, 's3' | 'dataDir'>;
  /** Object store to upload to. @default the one `storage` describes (S3 or `DATA_DIR/objects`) */
  readonly objectStore?: ObjectStore | undefined;
}

/**
 * Registers the blob metrics, decorates the app with its object store and, when `role` is `worker` or
 * `all`, runs a {@link BlobWorker}:
 * started once the app is ready, stopped (leases handed back) before the database closes.
 * Needs the db and metrics plugins.
 */
export const blobWorkerPlugin = fp<BlobWorkerPluginOptions>(
  async (app, { role, worker: workerConfig, metrics, storage, objectStore }) => {
    const hooks = registerBlobMetrics(app.metrics.registry, app.db, app.log, {
      cacheMs: metrics.cacheMs,
    });
    const store = objectStore ?? (await createObjectStore(storage));
    app.decorate('objectStore', store);
    app.addHook('onClose', async () => {
      if (objectStore === undefined) await store.close();
    });
    if (role === 'api') {
      app.decorate('blobWorker', undefined);
      return;
    }
    const worker = new BlobWorker({
      db: app.db,
      objectStore: store,
      concurrency: workerConfig.concurrency,
      pollIntervalMs: workerConfig.pollIntervalMs,
      leaseMs: workerConfig.leaseMs,
      maxAttempts: workerConfig.maxAttempts,
      backoffBaseMs: workerConfig.backoffBaseMs,
      logger: app.log.child({ component: 'blob-worker' }),
      hooks,
    });
    app.decorate('blobWorker', worker);
    app.addHook('onReady', async () => worker.start());
    // preClose runs while the database is still open, so the leases can be handed back.
    app.addHook('preClose', async () => worker.stop());
  },
  { name: 'sluice-blob-worker', dependencies: ['sluice-db', 'sluice-metrics'] },
);

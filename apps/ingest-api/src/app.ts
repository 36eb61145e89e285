import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from './config.js';
import { answerClientError, answerFrameworkError, installErrorHandlers } from './error-handler.js';
import { installJsonBodyParser } from './http/utf8-body.js';
import type { ObjectStore } from './object-store/object-store.js';
import { authPlugin } from './plugins/auth.js';
import { dbPlugin } from './plugins/db.js';
import { drainPlugin } from './plugins/drain.js';
import { metricsPlugin } from './plugins/metrics.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { requestLogPlugin } from './plugins/request-log.js';
import { spoolPlugin } from './plugins/spool.js';
import { storedItemsPlugin } from './plugins/stored-items.js';
import { adminRoutes } from './routes/admin/index.js';
import { consoleRoutes } from './routes/console.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { batchRoutes } from './routes/v1/batch.js';
import { blobRoutes } from './routes/v1/blobs.js';
import { itemRoutes } from './routes/v1/items.js';
import { limitsRoutes } from './routes/v1/limits.js';
import { blobWorkerPlugin } from './worker/blob-worker-plugin.js';

/** Things a caller may inject into {@link buildApp}. */
export interface BuildAppOptions {
  /** A pino-compatible logger. @default a pino logger at `config.logLevel` */
  readonly logger?: FastifyBaseLogger;
  /** Object store the blob worker uploads to. @default the one `config` describes (S3 or `DATA_DIR/objects`) */
  readonly objectStore?: ObjectStore;
}

/**
 * Builds the ingest API on `config`: database (migrated), metrics, health, docs and, unless
 * `config.role` is `worker`, the authenticated (configured keys reconciled), rate-limited `/v1` routes
 * and the admin API (`/admin/v1`, admin key only) with its web console at `/console`.
 * Does not listen.
 * On failure everything opened so far is closed again.
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { http } = config;
  const app = Fastify({
    ...(options.logger === undefined
      ? { logger: { level: config.logLevel } }
      : { loggerInstance: options.logger }),
    // One line per request instead, written by requestLogPlugin.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxBatchBytes,
    // Starting waits for the database as long as DB_CONNECT_RETRY_MS allows and for migrations (an index
    // on a large table takes minutes); Fastify's default 10 s per plugin would cut both short.
    pluginTimeout: 0,
    trustProxy: http.trustProxy.length === 0 ? false : [...http.trustProxy],
    // An id is at most 128 characters, each at most 3 when percent-encoded (`:` is `%3A`).
    routerOptions: { maxParamLength: 3 * 128 },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Slow senders are cut off; Node checks the header and request deadlines every interval.
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.connectionTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
    },
  }) as unknown as FastifyInstance;
  try {
    await app.register(requestLogPlugin);
    await app.register(drainPlugin);
    await app.register(metricsPlugin);
    installErrorHandlers(app);
    // Before any route: every JSON body, /v1 and admin alike, is parsed only when it is UTF-8.
    installJsonBodyParser(app);
    await app.register(dbPlugin, { config: config.db });
    await app.register(blobWorkerPlugin, {
      role: config.role,
      worker: config.worker,
      metrics: config.metrics,
      storage: config,
      objectStore: options.objectStore,
    });
    await app.register(healthRoutes);
    await app.register(docsRoutes);
    if (config.role !== 'worker') {
      await app.register(storedItemsPlugin);
      await app.register(async (v1) => {
        await v1.register(authPlugin, { config: config.auth });
        await v1.register(rateLimitPlugin, config.rateLimit);
        await v1.register(batchRoutes, { limits: config.limits });
        await v1.register(spoolPlugin, config.spool);
        await v1.register(blobRoutes, { limits: config.limits });
        await v1.register(itemRoutes);
        await v1.register(limitsRoutes, { limits: config.limits });
      });
      await app.register(adminRoutes, {
        config: {
          ...config.admin,
          // A silent connection is cut after CONNECTION_TIMEOUT_MS; heartbeats keep live streams open.
          liveHeartbeatMs: Math.min(config.admin.liveHeartbeatMs, Math.floor(http.connectionTimeoutMs / 2)),
        },
      });
      await app.register(consoleRoutes);
    }
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

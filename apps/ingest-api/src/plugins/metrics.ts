import { ROUTES } from '@sluice/contracts';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The app's Prometheus metrics, on a registry of its own so several apps in one process stay apart. */
export interface Metrics {
  readonly registry: Registry;
  /** Items answered, by `kind` (record, blob) and `status`. */
  readonly items: Counter<'kind' | 'status'>;
  /** Seconds to answer an ingest request, by `route`. */
  readonly batchDuration: Histogram<'route'>;
  /** Database failures seen by requests, by `reason` (unavailable, overloaded, error). */
  readonly dbErrors: Counter<'reason'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** Creates the app's {@link Metrics} and serves them at `GET /metrics`. */
export const metricsPlugin = fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
    const metrics: Metrics = {
      registry,
      items: new Counter({
        name: 'sluice_items_total',
        help: 'Items answered, by kind and status.',
        labelNames: ['kind', 'status'],
        registers: [registry],
      }),
      batchDuration: new Histogram({
        name: 'sluice_ingest_request_duration_seconds',
        help: 'Seconds to answer an ingest request (batch or blobs).',
        labelNames: ['route'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
      dbErrors: new Counter({
        name: 'sluice_db_errors_total',
        help: 'Database failures seen by requests, by reason.',
        labelNames: ['reason'],
        registers: [registry],
      }),
    };
    app.decorate('metrics', metrics);
    app.route({
      method: ROUTES.metrics.method,
      url: ROUTES.metrics.path,
      handler: async (_request, reply) => {
        reply.type(registry.contentType);
        return registry.metrics();
      },
    });
  },
  { name: 'sluice-metrics' },
);

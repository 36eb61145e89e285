import type { FastifyPluginAsync } from 'fastify';
import type { AdminConfig } from '../../config.js';
import { adminAuthPlugin } from '../../plugins/admin-auth.js';
import { adminBlobRoutes } from './blobs.js';
import { adminItemRoutes } from './items.js';
import { adminLiveRoutes } from './live.js';
import { adminRateRoutes } from './rates.js';
import { adminSourceRoutes } from './sources.js';

/** Options of {@link adminRoutes}. */
export interface AdminRoutesOptions {
  readonly config: AdminConfig;
}

/**
 * The admin API, `/admin/v1/…` (SPEC §7): every route needs the admin key ({@link adminAuthPlugin});
 * source keys are refused. Register it in a scope of its own.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { config }) => {
  await app.register(adminAuthPlugin, { config });
  // Answers about every source's data: no browser or proxy keeps a copy.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  await app.register(adminSourceRoutes);
  await app.register(adminItemRoutes);
  await app.register(adminBlobRoutes);
  await app.register(adminLiveRoutes, {
    eventsPerSecond: config.liveEventsPerSecond,
    heartbeatMs: config.liveHeartbeatMs,
  });
  await app.register(adminRateRoutes);
};

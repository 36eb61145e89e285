import { ROUTES } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { sendError } from '../error-handler.js';

/** `GET /healthz` (the process is up) and `GET /readyz` (the database answers and has every migration). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.route({
    method: ROUTES.health.method,
    url: ROUTES.health.path,
    handler: async () => ({ status: 'ok' }),
  });
  app.route({
    method: ROUTES.ready.method,
    url: ROUTES.ready.path,
    handler: async (_request, reply) => {
      try {
        await app.db.ping();
        return { status: 'ready', database: app.db.kind };
      } catch (error) {
        reply.header('retry-after', '2');
        return sendError(
          reply,
          'UNAVAILABLE',
          'database unreachable or not migrated',
          error instanceof Error ? error.message : String(error),
        );
      }
    },
  });
};

import { type Limits, ROUTES } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';

/** Options of {@link limitsRoutes}. */
export interface LimitsRoutesOptions {
  readonly limits: Limits;
}

/** `GET /v1/limits`: the limits this server enforces. */
export const limitsRoutes: FastifyPluginAsync<LimitsRoutesOptions> = async (app, { limits }) => {
  const { method, path } = ROUTES.limits;
  app.route({ method, url: path, handler: async () => limits });
};

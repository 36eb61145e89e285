import { API_PATHS, type Limits } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';

/** Options of {@link limitsRoutes}. */
export interface LimitsRoutesOptions {
  readonly limits: Limits;
}

/** `GET /v1/limits`: the limits this server enforces. */
export const limitsRoutes: FastifyPluginAsync<LimitsRoutesOptions> = async (app, { limits }) => {
  app.get(API_PATHS.limits, async () => limits);
};

import { type Rates, ROUTES } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../admin/parse-input.js';

const RatesQuerySchema = z.strictObject({});

/**
 * `GET /admin/v1/rates`: items and bytes stored per source per minute over the last hour, from the
 * `item_rates` rollup every API process writes to (this process's latest counts written first).
 */
export const adminRateRoutes: FastifyPluginAsync = async (app) => {
  app.get(ROUTES.adminRates.path, async (request): Promise<Rates> => {
    parseInput(RatesQuerySchema, request.query, 'query');
    return app.storedItems.rates.read();
  });
};

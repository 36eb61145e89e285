import { API_PATHS } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { openApiDocument } from '../openapi.js';

/** `GET /docs` and `GET /docs/json`: the OpenAPI document. */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  const document = openApiDocument();
  app.get(API_PATHS.docs, async () => document);
  app.get(`${API_PATHS.docs}/json`, async () => document);
};

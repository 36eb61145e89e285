import {
  API_PATHS,
  BatchRequestSchema,
  BlobManifestSchema,
  ErrorBodySchema,
  IngestResponseSchema,
  ItemStatusResponseSchema,
  LimitsSchema,
} from '@sluice/contracts';
import { z } from 'zod';

const schemaOf = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const errors = Object.fromEntries(
  [
    ['400', 'INVALID_BATCH'],
    ['401', 'UNAUTHORIZED'],
    ['413', 'PAYLOAD_TOO_LARGE'],
    ['415', 'UNSUPPORTED_MEDIA_TYPE'],
    ['429', 'RATE_LIMITED (honour Retry-After)'],
    ['503', 'UNAVAILABLE (honour Retry-After)'],
  ].map(([status, description]) => [status, { description, content: json('ErrorBody') }]),
);

/** The OpenAPI 3.0 document of wire protocol v1, generated from the contracts' zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 'Sluice ingest API', version: '1' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        BatchRequest: schemaOf(BatchRequestSchema),
        BlobManifest: schemaOf(BlobManifestSchema),
        IngestResponse: schemaOf(IngestResponseSchema),
        ItemStatus: schemaOf(ItemStatusResponseSchema),
        Limits: schemaOf(LimitsSchema),
        ErrorBody: schemaOf(ErrorBodySchema),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      [API_PATHS.batch]: {
        post: {
          summary: 'Store a batch of records exactly once (Content-Encoding: gzip accepted)',
          requestBody: { required: true, content: json('BatchRequest') },
          responses: {
            '200': { description: 'One result per item, in order', content: json('IngestResponse') },
            ...errors,
          },
        },
      },
      [API_PATHS.blobs]: {
        post: {
          summary:
            'Store blobs: a `manifest` JSON part, then one file part per manifest item named by its id',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: { manifest: ref('BlobManifest') },
                  additionalProperties: true,
                },
              },
            },
          },
          responses: {
            '200': { description: 'One result per item, in order', content: json('IngestResponse') },
            ...errors,
          },
        },
      },
      '/v1/items/{id}': {
        get: {
          summary: "One item of the caller's source",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The item', content: json('ItemStatus') },
            '404': { description: 'NOT_FOUND (unknown, or of another source)', content: json('ErrorBody') },
          },
        },
      },
      [API_PATHS.limits]: {
        get: {
          summary: 'Effective limits',
          responses: { '200': { description: 'Limits', content: json('Limits') } },
        },
      },
      [API_PATHS.health]: {
        get: { summary: 'Process up', security: [], responses: { '200': { description: 'ok' } } },
      },
      [API_PATHS.ready]: {
        get: {
          summary: 'Database reachable, migrations applied',
          security: [],
          responses: {
            '200': { description: 'ready' },
            '503': { description: 'UNAVAILABLE', content: json('ErrorBody') },
          },
        },
      },
      [API_PATHS.metrics]: {
        get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'text' } } },
      },
    },
  };
}

import type { z } from 'zod';
import { BatchRequestSchema } from './batch.js';
import { BlobManifestSchema } from './blob.js';
import { ErrorBodySchema } from './error-codes.js';
import { API_PATHS } from './http.js';
import { IngestResponseSchema, ItemStatusResponseSchema } from './item.js';
import { LimitsSchema } from './limits.js';

/** A zod schema and the name it goes by in the OpenAPI document (`components.schemas`). */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** One answer a route may give: its description and, when the body is JSON, its schema. */
export interface RouteResponse {
  readonly description: string;
  readonly body?: NamedSchema;
}

/** The request body of a route. */
export interface RouteBody {
  /** `multipart/form-data` bodies carry the schema's value as their `manifest` JSON field, then file parts. */
  readonly contentType: 'application/json' | 'multipart/form-data';
  readonly schema: NamedSchema;
}

/** The shape of one HTTP route, declared once for the server, its OpenAPI document and the SDK. */
export interface RouteContract {
  readonly method: 'GET' | 'POST';
  /** Path in router syntax: `:name` marks a path parameter. */
  readonly path: string;
  readonly summary: string;
  /** Whether the route needs `Authorization: Bearer <key>`. */
  readonly authenticated: boolean;
  readonly body?: RouteBody;
  /** Answers by HTTP status. */
  readonly responses: Readonly<Record<number, RouteResponse>>;
}

const schemas = {
  BatchRequest: { name: 'BatchRequest', schema: BatchRequestSchema },
  BlobManifest: { name: 'BlobManifest', schema: BlobManifestSchema },
  IngestResponse: { name: 'IngestResponse', schema: IngestResponseSchema },
  ItemStatus: { name: 'ItemStatus', schema: ItemStatusResponseSchema },
  Limits: { name: 'Limits', schema: LimitsSchema },
  ErrorBody: { name: 'ErrorBody', schema: ErrorBodySchema },
} as const satisfies Record<string, NamedSchema>;

const error = (description: string): RouteResponse => ({ description, body: schemas.ErrorBody });

/** What an ingest route (`/v1/batch`, `/v1/blobs`) may answer. */
const ingestResponses: Readonly<Record<number, RouteResponse>> = {
  200: { description: 'One result per item, in order', body: schemas.IngestResponse },
  400: error('INVALID_BATCH'),
  401: error('UNAUTHORIZED'),
  413: error('PAYLOAD_TOO_LARGE'),
  415: error('UNSUPPORTED_MEDIA_TYPE'),
  429: error('RATE_LIMITED (honour Retry-After)'),
  503: error('UNAVAILABLE (honour Retry-After)'),
};

/** Every route of wire protocol v1 (the docs route aside), by name. */
export const ROUTES = {
  batch: {
    method: 'POST',
    path: API_PATHS.batch,
    summary: 'Store a batch of records exactly once (Content-Encoding: gzip accepted)',
    authenticated: true,
    body: { contentType: 'application/json', schema: schemas.BatchRequest },
    responses: ingestResponses,
  },
  blobs: {
    method: 'POST',
    path: API_PATHS.blobs,
    summary: 'Store blobs: a `manifest` JSON part, then one file part per manifest item named by its id',
    authenticated: true,
    body: { contentType: 'multipart/form-data', schema: schemas.BlobManifest },
    responses: ingestResponses,
  },
  item: {
    method: 'GET',
    path: API_PATHS.item,
    summary: "One item of the caller's source",
    authenticated: true,
    responses: {
      200: { description: 'The item', body: schemas.ItemStatus },
      404: error('NOT_FOUND (unknown, or of another source)'),
    },
  },
  limits: {
    method: 'GET',
    path: API_PATHS.limits,
    summary: 'Effective limits',
    authenticated: true,
    responses: { 200: { description: 'Limits', body: schemas.Limits } },
  },
  health: {
    method: 'GET',
    path: API_PATHS.health,
    summary: 'Process up',
    authenticated: false,
    responses: { 200: { description: 'ok' } },
  },
  ready: {
    method: 'GET',
    path: API_PATHS.ready,
    summary: 'Database reachable, migrations applied',
    authenticated: false,
    responses: { 200: { description: 'ready' }, 503: error('UNAVAILABLE') },
  },
  metrics: {
    method: 'GET',
    path: API_PATHS.metrics,
    summary: 'Prometheus metrics',
    authenticated: false,
    responses: { 200: { description: 'text' } },
  },
} as const satisfies Record<string, RouteContract>;

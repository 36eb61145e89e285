import type { z } from 'zod';
import {
  ADMIN_PATHS,
  AdminItemSchema,
  BlobOverviewSchema,
  CreatedKeySchema,
  CreateSourceRequestSchema,
  FailedBlobPageSchema,
  FailedBlobQuerySchema,
  ItemPageSchema,
  ItemSearchQuerySchema,
  LiveItemEventSchema,
  RatesSchema,
  RetriedBlobsSchema,
  RetryBlobsRequestSchema,
  RevokedKeySchema,
  SourceListSchema,
} from './admin.js';
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

/** One answer a route may give: its description and, when it has one, its body's schema. */
export interface RouteResponse {
  readonly description: string;
  readonly body?: NamedSchema;
  /**
   * Media type of the body. With {@link RouteResponse.body}: for `text/event-stream` the schema of one
   * event's `data`. Without: an opaque body (e.g. blob bytes). @default 'application/json'
   */
  readonly contentType?: string;
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
  /** Which key an authenticated route takes: a source's API key or the admin key. @default 'source' */
  readonly auth?: 'source' | 'admin';
  /** Query parameters: a zod object whose fields are the parameters. */
  readonly query?: NamedSchema;
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
  SourceList: { name: 'SourceList', schema: SourceListSchema },
  CreateSourceRequest: { name: 'CreateSourceRequest', schema: CreateSourceRequestSchema },
  CreatedKey: { name: 'CreatedKey', schema: CreatedKeySchema },
  RevokedKey: { name: 'RevokedKey', schema: RevokedKeySchema },
  ItemSearchQuery: { name: 'ItemSearchQuery', schema: ItemSearchQuerySchema },
  ItemPage: { name: 'ItemPage', schema: ItemPageSchema },
  AdminItem: { name: 'AdminItem', schema: AdminItemSchema },
  BlobOverview: { name: 'BlobOverview', schema: BlobOverviewSchema },
  FailedBlobQuery: { name: 'FailedBlobQuery', schema: FailedBlobQuerySchema },
  FailedBlobPage: { name: 'FailedBlobPage', schema: FailedBlobPageSchema },
  RetryBlobsRequest: { name: 'RetryBlobsRequest', schema: RetryBlobsRequestSchema },
  RetriedBlobs: { name: 'RetriedBlobs', schema: RetriedBlobsSchema },
  LiveItemEvent: { name: 'LiveItemEvent', schema: LiveItemEventSchema },
  Rates: { name: 'Rates', schema: RatesSchema },
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

/** What every admin route may answer besides its own answers. */
const adminErrors: Readonly<Record<number, RouteResponse>> = {
  401: error('UNAUTHORIZED (not the admin key; source keys are refused)'),
  429: error('RATE_LIMITED (too many failed admin authentications from this address; honour Retry-After)'),
  503: error('UNAVAILABLE (honour Retry-After)'),
};

/** Every route of wire protocol v1 and of the admin API (the docs route aside), by name. */
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
  adminSources: {
    method: 'GET',
    path: ADMIN_PATHS.sources,
    summary: 'Admin: every source with its key ids and states (never a key)',
    authenticated: true,
    auth: 'admin',
    responses: { 200: { description: 'Sources by name', body: schemas.SourceList }, ...adminErrors },
  },
  adminCreateSource: {
    method: 'POST',
    path: ADMIN_PATHS.sources,
    summary: 'Admin: a new key for a source (created if new); the key is shown only here',
    authenticated: true,
    auth: 'admin',
    body: { contentType: 'application/json', schema: schemas.CreateSourceRequest },
    responses: {
      200: { description: 'The new key', body: schemas.CreatedKey },
      400: error('INVALID_REQUEST'),
      ...adminErrors,
    },
  },
  adminRevokeKey: {
    method: 'POST',
    path: ADMIN_PATHS.revokeKey,
    summary: 'Admin: revoke one key for good (refused by every instance within a second)',
    authenticated: true,
    auth: 'admin',
    responses: {
      200: { description: 'The key is revoked', body: schemas.RevokedKey },
      400: error('INVALID_REQUEST (not a key id)'),
      404: error('NOT_FOUND (no such key)'),
      ...adminErrors,
    },
  },
  adminItems: {
    method: 'GET',
    path: ADMIN_PATHS.items,
    summary: 'Admin: search items, newest first, keyset-paginated (pass nextCursor as cursor)',
    authenticated: true,
    auth: 'admin',
    query: schemas.ItemSearchQuery,
    responses: {
      200: { description: 'One page', body: schemas.ItemPage },
      400: error('INVALID_REQUEST (bad parameter or cursor)'),
      ...adminErrors,
    },
  },
  adminItem: {
    method: 'GET',
    path: ADMIN_PATHS.item,
    summary: 'Admin: one item with its data (untrusted) and blob state',
    authenticated: true,
    auth: 'admin',
    responses: {
      200: { description: 'The item', body: schemas.AdminItem },
      400: error('INVALID_REQUEST (not a source name or item id)'),
      404: error('NOT_FOUND'),
      ...adminErrors,
    },
  },
  adminItemBytes: {
    method: 'GET',
    path: ADMIN_PATHS.itemBytes,
    summary:
      "Admin: a blob's bytes with its content type, nosniff and a sandbox CSP; inline only for raster images",
    authenticated: true,
    auth: 'admin',
    responses: {
      200: { description: 'The bytes', contentType: 'application/octet-stream' },
      400: error('INVALID_REQUEST (not a source name or item id)'),
      404: error('NOT_FOUND (no such blob)'),
      ...adminErrors,
    },
  },
  adminBlobs: {
    method: 'GET',
    path: ADMIN_PATHS.blobs,
    summary: 'Admin: blob counts by state and backlog age',
    authenticated: true,
    auth: 'admin',
    responses: { 200: { description: 'Counts', body: schemas.BlobOverview }, ...adminErrors },
  },
  adminFailedBlobs: {
    method: 'GET',
    path: ADMIN_PATHS.failedBlobs,
    summary: 'Admin: failed blobs with their last error, keyset-paginated',
    authenticated: true,
    auth: 'admin',
    query: schemas.FailedBlobQuery,
    responses: {
      200: { description: 'One page', body: schemas.FailedBlobPage },
      400: error('INVALID_REQUEST (bad parameter or cursor)'),
      ...adminErrors,
    },
  },
  adminRetryBlobs: {
    method: 'POST',
    path: ADMIN_PATHS.retryBlobs,
    summary: 'Admin: failed blobs (all, or the named (source, id) pairs) back to pending',
    authenticated: true,
    auth: 'admin',
    body: { contentType: 'application/json', schema: schemas.RetryBlobsRequest },
    responses: {
      200: { description: 'The blobs now pending', body: schemas.RetriedBlobs },
      400: error('INVALID_REQUEST'),
      ...adminErrors,
    },
  },
  adminLive: {
    method: 'GET',
    path: ADMIN_PATHS.live,
    summary: 'Admin: server-sent events (`event: item`) of stored items, sampled to about 20 per second',
    authenticated: true,
    auth: 'admin',
    responses: {
      200: {
        description: 'An event stream; each data line is one event',
        contentType: 'text/event-stream',
        body: schemas.LiveItemEvent,
      },
      ...adminErrors,
    },
  },
  adminRates: {
    method: 'GET',
    path: ADMIN_PATHS.rates,
    summary: 'Admin: items and bytes stored per source per minute over the last hour',
    authenticated: true,
    auth: 'admin',
    responses: { 200: { description: 'Per-minute series', body: schemas.Rates }, ...adminErrors },
  },
} as const satisfies Record<string, RouteContract>;

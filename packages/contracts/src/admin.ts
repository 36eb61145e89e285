import { z } from 'zod';
import { BlobStateSchema, ItemIdSchema, ItemTypeSchema, Sha256HexSchema, TimestampSchema } from './item.js';

/**
 * The admin API (`/admin/v1/…`), used by the console and by operators' scripts. Every route needs
 * `Authorization: Bearer <ADMIN_KEY>`; source keys are refused. Times are epoch milliseconds.
 */
export const ADMIN_PATHS = {
  sources: '/admin/v1/sources',
  revokeKey: '/admin/v1/keys/:keyId/revoke',
  items: '/admin/v1/items',
  item: '/admin/v1/items/:source/:id',
  itemBytes: '/admin/v1/items/:source/:id/bytes',
  blobs: '/admin/v1/blobs',
  failedBlobs: '/admin/v1/blobs/failed',
  retryBlobs: '/admin/v1/blobs/retry',
  live: '/admin/v1/live',
  rates: '/admin/v1/rates',
} as const;

/** Source names: 1–64 characters of `[A-Za-z0-9._-]`. */
export const SOURCE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const SourceNameSchema = z
  .string()
  .regex(SOURCE_NAME_PATTERN, 'source name must be 1-64 characters of [A-Za-z0-9._-]');

/** A key's public id: `key_` and the first 12 hex digits of the key's SHA-256. */
export const KEY_ID_PATTERN = /^key_[0-9a-f]{12}$/;
export const KeyIdSchema = z
  .string()
  .regex(KEY_ID_PATTERN, 'key id must be key_ and 12 lowercase hex digits');

export const ApiKeyInfoSchema = z.strictObject({
  keyId: KeyIdSchema,
  /** `config`: from `API_KEYS` or the development key; `cli`: made by `sources:create` or the admin API. */
  origin: z.enum(['config', 'cli']),
  /** `disabled`: a config key that the latest start did not configure. */
  state: z.enum(['active', 'disabled', 'revoked']),
  createdAt: TimestampSchema,
  revokedAt: TimestampSchema.optional(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfoSchema>;

export const AdminSourceSchema = z.strictObject({
  name: SourceNameSchema,
  createdAt: TimestampSchema,
  keys: z.array(ApiKeyInfoSchema),
});
export type AdminSource = z.infer<typeof AdminSourceSchema>;

/** `GET /admin/v1/sources`: every source with its keys (never the keys themselves), by name. */
export const SourceListSchema = z.strictObject({ sources: z.array(AdminSourceSchema) });
export type SourceList = z.infer<typeof SourceListSchema>;

/** `POST /admin/v1/sources`: creates the source if it is new, and a new key for it either way. */
export const CreateSourceRequestSchema = z.strictObject({ name: SourceNameSchema });
export type CreateSourceRequest = z.infer<typeof CreateSourceRequestSchema>;

/** The answer to {@link CreateSourceRequestSchema}: the only time the key is ever shown. */
export const CreatedKeySchema = z.strictObject({
  source: SourceNameSchema,
  keyId: KeyIdSchema,
  key: z.string(),
});
export type CreatedKey = z.infer<typeof CreatedKeySchema>;

/** `POST /admin/v1/keys/:keyId/revoke`: the key is refused on every instance within a second. */
export const RevokedKeySchema = z.strictObject({ keyId: KeyIdSchema, source: SourceNameSchema });
export type RevokedKey = z.infer<typeof RevokedKeySchema>;

/** The latest instant a JavaScript `Date` can hold, in epoch milliseconds: the bound of time filters. */
export const MAX_DATE_MS = 8_640_000_000_000_000;

export const ItemKindSchema = z.enum(['record', 'blob']);
export type ItemKind = z.infer<typeof ItemKindSchema>;

/**
 * A whole number in a query string, `then` checked on it: decimal digits only (`0x10`, `1e3` or a space are
 * refused, not read as numbers), and an empty value (`?from=`, as a form sends an unset field) is no value.
 */
function queryInteger<T extends z.ZodType<unknown, number | undefined>>(then: T) {
  return z
    .string()
    .regex(/^\d{0,20}$/, 'expected a whole number in decimal digits')
    .transform((text) => (text === '' ? undefined : Number(text)))
    .pipe(then.optional());
}

/**
 * `GET /admin/v1/items` query: newest first, keyset-paginated (`cursor` is the previous page's
 * `nextCursor`, opaque). `from`/`to` bound `receivedAt` (from inclusive, to exclusive).
 */
export const ItemSearchQuerySchema = z.strictObject({
  source: SourceNameSchema.optional(),
  kind: ItemKindSchema.optional(),
  type: ItemTypeSchema.optional(),
  from: queryInteger(TimestampSchema.max(MAX_DATE_MS))
    .optional()
    .describe('receivedAt at or after, epoch milliseconds'),
  to: queryInteger(TimestampSchema.max(MAX_DATE_MS))
    .optional()
    .describe('receivedAt before, epoch milliseconds'),
  limit: queryInteger(z.int().min(1).max(500).default(50))
    .default(50)
    .describe('items per page, 1 to 500 (default 50)'),
  cursor: z.string().max(512).optional(),
});
export type ItemSearchQuery = z.infer<typeof ItemSearchQuerySchema>;

export const AdminBlobInfoSchema = z.strictObject({
  state: BlobStateSchema,
  size: z.int().nonnegative(),
  contentType: z.string(),
  sha256: Sha256HexSchema,
  attempts: z.int().nonnegative(),
  objectKey: z.string().optional(),
  lastError: z.string().optional(),
  /** The blob manifest's `meta` (client-chosen, untrusted). */
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type AdminBlobInfo = z.infer<typeof AdminBlobInfoSchema>;

/** One item in search results: everything but its data. */
export const AdminItemSummarySchema = z.strictObject({
  source: SourceNameSchema,
  id: ItemIdSchema,
  kind: ItemKindSchema,
  type: ItemTypeSchema,
  ts: TimestampSchema,
  receivedAt: TimestampSchema,
  /**
   * Bytes of the blob; for a record, of its data's JSON text as the database stores it (close to, not
   * exactly, its canonical size, which live events and rates count).
   */
  size: z.int().nonnegative(),
  blobState: BlobStateSchema.optional(),
});
export type AdminItemSummary = z.infer<typeof AdminItemSummarySchema>;

export const ItemPageSchema = z.strictObject({
  items: z.array(AdminItemSummarySchema),
  /** Present when there may be more: pass it as `cursor` for the next page. */
  nextCursor: z.string().optional(),
});
export type ItemPage = z.infer<typeof ItemPageSchema>;

/** `GET /admin/v1/items/:source/:id`: one item with its data (attacker-controlled: escape it). */
export const AdminItemSchema = AdminItemSummarySchema.extend({
  hash: Sha256HexSchema,
  data: z.unknown().optional(),
  blob: AdminBlobInfoSchema.optional(),
});
export type AdminItem = z.infer<typeof AdminItemSchema>;

/** `GET /admin/v1/blobs`: blob counts by state and how old the oldest unfinished blob is. */
export const BlobOverviewSchema = z.strictObject({
  counts: z.strictObject({
    pending: z.int().nonnegative(),
    uploading: z.int().nonnegative(),
    uploaded: z.int().nonnegative(),
    failed: z.int().nonnegative(),
  }),
  /** Milliseconds since the oldest pending or uploading blob was received; 0 when there is none. */
  backlogAgeMs: z.int().nonnegative(),
});
export type BlobOverview = z.infer<typeof BlobOverviewSchema>;

/** `GET /admin/v1/blobs/failed` query: oldest failure first, keyset-paginated. */
export const FailedBlobQuerySchema = z.strictObject({
  limit: queryInteger(z.int().min(1).max(500).default(50))
    .default(50)
    .describe('blobs per page, 1 to 500 (default 50)'),
  cursor: z.string().max(512).optional(),
});
export type FailedBlobQuery = z.infer<typeof FailedBlobQuerySchema>;

export const FailedBlobSchema = z.strictObject({
  source: SourceNameSchema,
  id: ItemIdSchema,
  type: ItemTypeSchema,
  size: z.int().nonnegative(),
  contentType: z.string(),
  attempts: z.int().nonnegative(),
  lastError: z.string(),
  receivedAt: TimestampSchema,
});
export type FailedBlob = z.infer<typeof FailedBlobSchema>;

export const FailedBlobPageSchema = z.strictObject({
  blobs: z.array(FailedBlobSchema),
  nextCursor: z.string().optional(),
});
export type FailedBlobPage = z.infer<typeof FailedBlobPageSchema>;

/** An item named by its source and id. */
export const ItemRefSchema = z.strictObject({ source: SourceNameSchema, id: ItemIdSchema });

/** `POST /admin/v1/blobs/retry`: failed blobs back to `pending`, due at once. */
export const RetryBlobsRequestSchema = z.union([
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({
    items: z.array(ItemRefSchema).min(1).max(1000),
  }),
]);
export type RetryBlobsRequest = z.infer<typeof RetryBlobsRequestSchema>;

/** Most blobs a retry answer lists; `count` says how many were retried. */
export const RETRIED_LISTED = 1000;

export const RetriedBlobsSchema = z.strictObject({
  /** How many blobs were failed and are now pending (others named in the request are left alone). */
  count: z.int().nonnegative(),
  /** The first {@link RETRIED_LISTED} of them. */
  retried: z.array(ItemRefSchema).max(RETRIED_LISTED),
});
export type RetriedBlobs = z.infer<typeof RetriedBlobsSchema>;

/**
 * One `item` event of `GET /admin/v1/live` (server-sent events): an item this process stored.
 * The stream is sampled to at most a configured rate; `skipped` counts the items left out since
 * the previous event.
 */
export const LiveItemEventSchema = z.strictObject({
  source: SourceNameSchema,
  id: ItemIdSchema,
  kind: ItemKindSchema,
  type: ItemTypeSchema,
  status: z.literal('stored'),
  size: z.int().nonnegative(),
  receivedAt: TimestampSchema,
  skipped: z.int().nonnegative(),
});
export type LiveItemEvent = z.infer<typeof LiveItemEventSchema>;

/** `GET /admin/v1/rates`: stored items and bytes per source, per minute, over the last hour. */
export const RatesSchema = z.strictObject({
  bucketMs: z.int().positive(),
  /** Start of the first bucket; bucket `i` covers `[from + i × bucketMs, from + (i + 1) × bucketMs)`. */
  from: TimestampSchema,
  sources: z.array(
    z.strictObject({
      source: SourceNameSchema,
      items: z.array(z.int().nonnegative()),
      bytes: z.array(z.int().nonnegative()),
    }),
  ),
});
export type Rates = z.infer<typeof RatesSchema>;

/** The essence of a content type, lowercase, without parameters (`Image/PNG; x=y` → `image/png`). */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Raster image types a browser renders as an image and nothing else: the only blob types the admin API
 * serves `inline` and the console previews. Anything else (SVG, HTML included) is a download.
 */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);

/** True when a blob's declared content type may be shown inline (see {@link INLINE_IMAGE_TYPES}). */
export function isInlineImage(contentType: string): boolean {
  return INLINE_IMAGE_TYPES.has(mediaType(contentType));
}

import { z } from 'zod';
import { ItemErrorCodeSchema } from './error-codes.js';

/** Longest item id, in characters (ASCII). */
export const MAX_ID_LENGTH = 128;
/** Longest item type, in Unicode code points. */
export const MAX_TYPE_LENGTH = 128;

/** Item ids: 1–128 chars of `[A-Za-z0-9._:-]`, chosen by the client, unique within a source forever. */
export const ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_ID_LENGTH}}$`);
/**
 * Item types: 1–128 Unicode characters (code points), none of them a control character (C0, DEL, C1)
 * or an unpaired surrogate. Analytics names such as `Order Completed` or `page view` are fine.
 */
export const TYPE_PATTERN = new RegExp(`^[^\\p{Cc}\\p{Cs}]{1,${MAX_TYPE_LENGTH}}$`, 'u');
/** Lowercase hex SHA-256. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

export const ItemIdSchema = z.string().regex(ID_PATTERN, 'id must be 1-128 characters of [A-Za-z0-9._:-]');
export type ItemId = z.infer<typeof ItemIdSchema>;

export const ItemTypeSchema = z
  .string()
  .regex(TYPE_PATTERN, 'type must be 1-128 characters without control characters');

/** Integer epoch milliseconds. */
export const TimestampSchema = z.int().nonnegative();

export const Sha256HexSchema = z.string().regex(SHA256_HEX_PATTERN, 'must be lowercase hex SHA-256');

/** True when `id` is a valid item id. */
export function isValidItemId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

/** True when `type` is a valid item type. */
export function isValidItemType(type: unknown): type is string {
  return typeof type === 'string' && TYPE_PATTERN.test(type);
}

export const ITEM_STATUSES = ['stored', 'duplicate', 'conflict', 'rejected', 'retry'] as const;
export const ItemStatusSchema = z.enum(ITEM_STATUSES);
export type ItemStatus = z.infer<typeof ItemStatusSchema>;

/** The answer for one item of a batch; `error` is present for `conflict`, `rejected` and `retry`. */
export const ItemResultSchema = z.strictObject({
  id: z.string(),
  status: ItemStatusSchema,
  error: z
    .strictObject({
      code: ItemErrorCodeSchema,
      message: z.string(),
    })
    .optional(),
});
export type ItemResult = z.infer<typeof ItemResultSchema>;

export const StatusCountsSchema = z.strictObject({
  stored: z.int().nonnegative(),
  duplicate: z.int().nonnegative(),
  conflict: z.int().nonnegative(),
  rejected: z.int().nonnegative(),
  retry: z.int().nonnegative(),
});
export type StatusCounts = z.infer<typeof StatusCountsSchema>;

/** The response of `POST /v1/batch` and `POST /v1/blobs`: `results[i]` answers `items[i]`. */
export const IngestResponseSchema = z.strictObject({
  results: z.array(ItemResultSchema),
  counts: StatusCountsSchema,
});
export type IngestResponse = z.infer<typeof IngestResponseSchema>;

/**
 * What a client accepts as an ingest response: the contract's fields and statuses, with keys it does not
 * know ignored and item error codes it does not know kept as text. A server that adds either keeps working
 * with clients already in the field, which would otherwise take every answer for an invalid one and send
 * the same items forever. The server itself answers {@link IngestResponseSchema}.
 */
export const IngestResponseReadSchema = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      status: ItemStatusSchema,
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
  counts: z.object(StatusCountsSchema.shape),
});
export type IngestResponseRead = z.infer<typeof IngestResponseReadSchema>;

/** Counts results by status, in the shape of the response's `counts`. */
export function countStatuses(results: readonly Pick<ItemResult, 'status'>[]): StatusCounts {
  const counts: StatusCounts = { stored: 0, duplicate: 0, conflict: 0, rejected: 0, retry: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}

export const BLOB_STATES = ['pending', 'uploading', 'uploaded', 'failed'] as const;
export const BlobStateSchema = z.enum(BLOB_STATES);
export type BlobState = z.infer<typeof BlobStateSchema>;

/** `GET /v1/items/:id`. Times are epoch milliseconds. */
export const ItemStatusResponseSchema = z.strictObject({
  id: ItemIdSchema,
  type: ItemTypeSchema,
  ts: TimestampSchema,
  receivedAt: TimestampSchema,
  kind: z.enum(['record', 'blob']),
  hash: Sha256HexSchema,
  blob: z
    .strictObject({
      state: BlobStateSchema,
      size: z.int().nonnegative(),
      contentType: z.string(),
      sha256: Sha256HexSchema,
      objectKey: z.string().optional(),
      attempts: z.int().nonnegative(),
      lastError: z.string().optional(),
    })
    .optional(),
});
export type ItemStatusResponse = z.infer<typeof ItemStatusResponseSchema>;

/** {@link ItemStatusResponseSchema} as a client reads it: keys it does not know are ignored. */
export const ItemStatusResponseReadSchema = z.object({
  ...ItemStatusResponseSchema.shape,
  blob: z.object(ItemStatusResponseSchema.shape.blob.unwrap().shape).optional(),
});

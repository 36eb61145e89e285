import { z } from 'zod';

/**
 * Errors that fail a whole request. Each code has one HTTP status and says whether a client may
 * retry the same request unchanged. A request that fails as a whole has written nothing.
 */
export const REQUEST_ERRORS = {
  /** Not JSON, wrong envelope, no items or too many, missing or misplaced manifest. */
  INVALID_BATCH: { status: 400, retryable: false },
  /**
   * A query, path parameter or body of an admin route that does not match its schema (bad cursor, limit,
   * date); or an HTTP request the server's parser refused (malformed, headers too large), which says
   * nothing about the items: clients keep them and back off.
   */
  INVALID_REQUEST: { status: 400, retryable: false },
  /** Missing, unknown or disabled API key. Clients pause and keep their data. */
  UNAUTHORIZED: { status: 401, retryable: false },
  /** The key is valid but may not do this. Clients pause and keep their data. */
  FORBIDDEN: { status: 403, retryable: false },
  /** Unknown item, or an item of another source. */
  NOT_FOUND: { status: 404, retryable: false },
  /** The body exceeds a published limit; clients split the batch. */
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  /** Wrong `Content-Type` or `Content-Encoding`. */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  /** The source sends too fast; honour `Retry-After`. */
  RATE_LIMITED: { status: 429, retryable: true },
  /** An unexpected server fault; details are in the server log, never in the response. */
  INTERNAL: { status: 500, retryable: true },
  /** Database down or server overloaded; honour `Retry-After`. */
  UNAVAILABLE: { status: 503, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type RequestErrorCode = keyof typeof REQUEST_ERRORS;
export const RequestErrorCodeSchema = z.enum(
  Object.keys(REQUEST_ERRORS) as [RequestErrorCode, ...RequestErrorCode[]],
);

/** Why one item of a request was not stored. `retryable` says whether the item's status is `retry`. */
export const ITEM_ERRORS = {
  /** Same id already stored with a different hash; the stored item never changes. */
  IDEMPOTENCY_CONFLICT: { retryable: false },
  /** The client's `hash` differs from the server's canonical hash. */
  HASH_MISMATCH: { retryable: false },
  /** The item does not match the schema (id, type, ts, data, manifest fields). */
  INVALID_ITEM: { retryable: false },
  /** The item's `data` (or a blob's `meta`) exceeds its size limit. */
  ITEM_TOO_LARGE: { retryable: false },
  /** A blob's bytes differ from its manifest's size or SHA-256, or were cut short. */
  CHECKSUM_MISMATCH: { retryable: false },
  /** A manifest item had no file part. */
  MISSING_PART: { retryable: false },
  /** A transient failure for this item only. */
  TEMPORARY_FAILURE: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type ItemErrorCode = keyof typeof ITEM_ERRORS;
export const ItemErrorCodeSchema = z.enum(Object.keys(ITEM_ERRORS) as [ItemErrorCode, ...ItemErrorCode[]]);

/** The body of every response that fails as a whole. */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: RequestErrorCodeSchema,
    message: z.string(),
    retryable: z.boolean(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * An error body as a client reads it: keys it does not know are ignored and a code it does not know is
 * kept as text (its HTTP status then decides), so that a server adding either does not make its answers
 * look like a proxy's. The server itself answers {@link ErrorBodySchema}.
 */
export const ErrorBodyReadSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});
export type ErrorBodyRead = z.infer<typeof ErrorBodyReadSchema>;

/** Builds the error body for a code, taking `retryable` from the table. */
export function errorBody(code: RequestErrorCode, message: string): ErrorBody {
  return { error: { code, message, retryable: REQUEST_ERRORS[code].retryable } };
}

/** The HTTP status of a request error code. */
export function httpStatusOf(code: RequestErrorCode): number {
  return REQUEST_ERRORS[code].status;
}

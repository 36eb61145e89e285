import type { RequestErrorCode } from '@sluice/contracts';

/** The environment cannot be turned into a valid configuration; the server does not start. */
export class ConfigError extends Error {
  override name = 'ConfigError' as const;
}

/** The database lacks migrations this build ships (another instance rolled back, or a restore). */
export class MigrationsMissingError extends Error {
  override name = 'MigrationsMissingError' as const;
}

/**
 * A fault of the server's own resources (its disk, its spool), never of the input: answered 500
 * even while the request's input is still being read.
 */
export class ServerFault extends Error {
  override name = 'ServerFault' as const;
}

/** A failure of a whole request that maps to one contract error code. */
export abstract class RequestError extends Error {
  abstract readonly code: RequestErrorCode;
  /** Seconds for the `Retry-After` header, for retryable codes. */
  readonly retryAfterSeconds: number | undefined = undefined;
}

/** Not JSON, wrong envelope, no items or too many. */
export class InvalidBatchError extends RequestError {
  override name = 'InvalidBatchError' as const;
  readonly code = 'INVALID_BATCH' as const;
}

/** An admin route's query, path parameter or body does not match its contract schema. */
export class InvalidRequestError extends RequestError {
  override name = 'InvalidRequestError' as const;
  readonly code = 'INVALID_REQUEST' as const;
}

/** Missing, unknown or disabled API key. */
export class UnauthorizedError extends RequestError {
  override name = 'UnauthorizedError' as const;
  readonly code = 'UNAUTHORIZED' as const;
}

/** Unknown route, or an item that is unknown or belongs to another source. */
export class NotFoundError extends RequestError {
  override name = 'NotFoundError' as const;
  readonly code = 'NOT_FOUND' as const;
}

/** The body exceeds a published limit. */
export class PayloadTooLargeError extends RequestError {
  override name = 'PayloadTooLargeError' as const;
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
}

/** Wrong `Content-Type` or `Content-Encoding`. */
export class UnsupportedMediaTypeError extends RequestError {
  override name = 'UnsupportedMediaTypeError' as const;
  readonly code = 'UNSUPPORTED_MEDIA_TYPE' as const;
}

/** The source exceeded its request rate. */
export class RateLimitedError extends RequestError {
  override name = 'RateLimitedError' as const;
  readonly code = 'RATE_LIMITED' as const;
  override readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The database cannot be reached (refused, terminated, closed); retry later. */
export class DatabaseUnavailableError extends RequestError {
  override name = 'DatabaseUnavailableError' as const;
  readonly code = 'UNAVAILABLE' as const;
  override readonly retryAfterSeconds = 2;
}

/**
 * The database could not be opened at start: it stayed unreachable for the whole retry budget
 * (`DB_CONNECT_RETRY_MS`), or it refused the connection (no such database, bad credentials).
 */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError' as const;
}

/** Too many requests are already waiting for a database connection; retry later. */
export class DatabaseOverloadedError extends RequestError {
  override name = 'DatabaseOverloadedError' as const;
  readonly code = 'UNAVAILABLE' as const;
  override readonly retryAfterSeconds = 1;
}

/** The blob spool has no room for the request's bytes (its byte budget or its disk); retry later. */
export class SpoolFullError extends RequestError {
  override name = 'SpoolFullError' as const;
  readonly code = 'UNAVAILABLE' as const;
  override readonly retryAfterSeconds = 5;
}

/** The object store cannot be read right now; retry later. */
export class ObjectStoreUnavailableError extends RequestError {
  override name = 'ObjectStoreUnavailableError' as const;
  readonly code = 'UNAVAILABLE' as const;
  override readonly retryAfterSeconds = 5;
}

/** True for every {@link RequestError}. */
export function isRequestError(error: unknown): error is RequestError {
  return error instanceof RequestError;
}

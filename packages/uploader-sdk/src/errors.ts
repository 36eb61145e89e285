/** The queue's byte quota is reached and `whenFull` is `'reject'`. Nothing was written. */
export class QueueFullError extends Error {
  override name = 'QueueFullError' as const;
  constructor(
    readonly maxBytes: number,
    readonly requestedBytes: number,
  ) {
    super(`queue is full: ${requestedBytes} more bytes would exceed the ${maxBytes}-byte quota`);
  }
}

/** What the lock file says about the holder of a locked queue directory, when it could be read. */
export interface QueueLockedErrorOptions extends ErrorOptions {
  /** Host name of the holder. */
  readonly ownerHost?: string;
  /** When the holder took the lock (ISO 8601). */
  readonly lockedSince?: string;
}

/** Another process (or another uploader in this one) owns the queue directory. */
export class QueueLockedError extends Error {
  override name = 'QueueLockedError' as const;
  /** Host name of the holder, when its lock file says. */
  readonly ownerHost: string | undefined;
  /** When the holder took the lock (ISO 8601), when its lock file says. */
  readonly lockedSince: string | undefined;
  constructor(
    readonly directory: string,
    readonly ownerPid: number | undefined,
    options?: QueueLockedErrorOptions,
  ) {
    const { ownerHost, lockedSince, ...errorOptions } = options ?? {};
    const holder =
      (ownerPid === undefined ? '' : ` by process ${ownerPid}`) +
      (ownerHost === undefined ? '' : ` on host ${ownerHost}`) +
      (lockedSince === undefined ? '' : ` since ${lockedSince}`);
    super(
      `queue directory ${directory} is in use${holder}; one process owns a directory at a time`,
      errorOptions,
    );
    this.ownerHost = ownerHost;
    this.lockedSince = lockedSince;
  }
}

/** The uploader or queue was closed; the call did nothing. */
export class UploaderClosedError extends Error {
  override name = 'UploaderClosedError' as const;
  constructor() {
    super('uploader is closed');
  }
}

/**
 * A 401 or 403 answered a request; sending is paused and all data is kept. `fromApi`: the answer was the
 * API's own (`UNAUTHORIZED`/`FORBIDDEN`), so the key is refused; false when something in front of the API
 * (a proxy, a gateway) refused the request with a body of its own.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError' as const;
  constructor(
    readonly status: number,
    message: string,
    options?: ErrorOptions,
    readonly fromApi = true,
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link QueueFullError}. */
export function isQueueFullError(error: unknown): error is QueueFullError {
  return error instanceof QueueFullError && error.name === 'QueueFullError';
}

/** True when `error` is a {@link QueueLockedError}. */
export function isQueueLockedError(error: unknown): error is QueueLockedError {
  return error instanceof QueueLockedError && error.name === 'QueueLockedError';
}

/** True when `error` is a {@link UploaderClosedError}. */
export function isUploaderClosedError(error: unknown): error is UploaderClosedError {
  return error instanceof UploaderClosedError && error.name === 'UploaderClosedError';
}

/** True when `error` is a {@link AuthenticationError}. */
export function isAuthenticationError(error: unknown): error is AuthenticationError {
  return error instanceof AuthenticationError && error.name === 'AuthenticationError';
}

/**
 * The endpoint answers requests with something other than the ingest API's answer (a 404 or 405, a proxy's
 * page, a server running in the worker role…): a deployment problem rather than a passing fault. Nothing
 * is lost: the items stay queued and are retried with backoff. Reported once per cause and lane until a
 * request succeeds again.
 */
export class EndpointError extends Error {
  override name = 'EndpointError' as const;
  constructor(
    /** The HTTP status of the answer. */
    readonly status: number,
    /** Method and URL of the request that got it. */
    readonly method: string,
    readonly url: string,
    /** The contract's error code, when the body carried one. */
    readonly code: string | undefined,
    /** What the answer most likely means. */
    readonly hint: string,
    options?: ErrorOptions,
  ) {
    super(
      `endpoint answers ${status}${code === undefined ? '' : ` ${code}`} for ${method} ${url}: ${hint} (the items stay queued and are retried)`,
      options,
    );
  }
}

/** True when `error` is a {@link EndpointError}. */
export function isEndpointError(error: unknown): error is EndpointError {
  return error instanceof EndpointError && error.name === 'EndpointError';
}

/** What a {@link QueueWriteError} failed to write. */
export type QueueWriteOperation = 'ack' | 'dead-letter';

/**
 * Recording in the queue directory that items were delivered (`ack`) or dead-lettered failed (disk full,
 * read-only, I/O error). Nothing is lost: the items stay queued, do not count as delivered or dead, keep a
 * `flush()` from completing, and the write is retried with backoff. Reported once per cause and lane until
 * a write succeeds again.
 */
export class QueueWriteError extends Error {
  override name = 'QueueWriteError' as const;
  constructor(
    readonly operation: QueueWriteOperation,
    readonly kind: 'record' | 'blob',
    /** How many items the failed write was for. */
    readonly count: number,
    options?: ErrorOptions & { readonly cause?: Error },
  ) {
    super(
      `could not record ${count} ${kind}(s) as ${operation === 'ack' ? 'delivered' : 'dead-lettered'} in the queue directory (${options?.cause?.message ?? 'unknown error'}); they stay queued and the write is retried`,
      options,
    );
  }
}

/** True when `error` is a {@link QueueWriteError}. */
export function isQueueWriteError(error: unknown): error is QueueWriteError {
  return error instanceof QueueWriteError && error.name === 'QueueWriteError';
}

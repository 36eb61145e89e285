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

/** The server refused the API key (401/403); sending is paused and all data is kept. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError' as const;
  constructor(
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isQueueFullError(error: unknown): error is QueueFullError {
  return error instanceof QueueFullError && error.name === 'QueueFullError';
}

export function isQueueLockedError(error: unknown): error is QueueLockedError {
  return error instanceof QueueLockedError && error.name === 'QueueLockedError';
}

export function isUploaderClosedError(error: unknown): error is UploaderClosedError {
  return error instanceof UploaderClosedError && error.name === 'UploaderClosedError';
}

export function isAuthenticationError(error: unknown): error is AuthenticationError {
  return error instanceof AuthenticationError && error.name === 'AuthenticationError';
}

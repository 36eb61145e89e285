import { isSendableKey, MAX_API_KEY_LENGTH } from '@sluice/contracts';
import type { Durability, WhenFull } from './disk-queue/types.js';
import { MAX_TIMER_MS } from './timers.js';

/** A logger the uploader may write diagnostics to (pino, console or anything shaped like them). */
export interface UploaderLogger {
  debug(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/**
 * Options of {@link createUploader}. Only `endpoint`, `apiKey` and `directory` are required; an option
 * given as `undefined` takes its default.
 */
export interface UploaderOptions {
  /**
   * Base URL of the ingest API, e.g. `https://ingest.example.com`; without credentials (`user:password@`):
   * the key goes in `apiKey`.
   */
  readonly endpoint: string;
  /** API key sent as `Authorization: Bearer <key>`; replace it later with `setApiKey`. */
  readonly apiKey: string;
  /** Directory the uploader owns exclusively: queues, blob copies and dead letters live here. Created if missing. */
  readonly directory: string;
  /**
   * `fsync`: `enqueue` resolves once the item is fsync'd (group-committed). `os`: once written to the OS,
   * which survives a process crash but not a power loss.
   * @default 'fsync'
   */
  readonly durability?: Durability | undefined;
  /**
   * Quota of queued record bytes on disk.
   * @default 268_435_456 (256 MiB)
   */
  readonly maxQueueBytes?: number | undefined;
  /**
   * Quota of queued blob bytes on disk (the copies made by `enqueueBlob`). A blob that would exceed it is
   * always refused with `QueueFullError`, whatever `whenFull` says: blobs are never dropped silently.
   * @default 1_073_741_824 (1 GiB)
   */
  readonly maxBlobQueueBytes?: number | undefined;
  /**
   * What `enqueue` does when the record quota is reached: `reject` throws `QueueFullError`,
   * `drop-oldest` discards the oldest queued records to make room (counted in `stats().dropped`).
   * @default 'reject'
   */
  readonly whenFull?: WhenFull | undefined;
  /**
   * A batch closes at this many records (lowered to the server's published limit).
   * @default 500
   */
  readonly maxBatchItems?: number | undefined;
  /**
   * A batch closes at this many bytes of JSON body (lowered to the server's published limit).
   * @default 1_048_576 (1 MiB)
   */
  readonly maxBatchBytes?: number | undefined;
  /**
   * A batch that is neither full by count nor by bytes closes this long after its first record was read.
   * @default 200
   */
  readonly maxBatchDelayMs?: number | undefined;
  /**
   * Request bodies of at least this many bytes are sent gzip-compressed.
   * @default 16_384 (16 KiB)
   */
  readonly gzipMinBytes?: number | undefined;
  /**
   * Lowest number of concurrent record requests the adaptive limit may fall to.
   * @default 1
   */
  readonly minConcurrency?: number | undefined;
  /**
   * Highest number of concurrent record requests the adaptive limit may grow to.
   * @default 8
   */
  readonly maxConcurrency?: number | undefined;
  /**
   * Record requests slower than this count as congestion and lower the concurrency limit.
   * @default 2000
   */
  readonly latencyTargetMs?: number | undefined;
  /**
   * Concurrent blob requests; blobs travel separately so records never wait behind them.
   * @default 2
   */
  readonly blobConcurrency?: number | undefined;
  /**
   * A record request whose answer (headers and body) is not complete after this long is abandoned and
   * retried. A blob request gets this plus the time its bytes take at `minUploadBytesPerSecond`.
   * @default 30_000
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * The slowest uplink blobs must still get through on: a blob request's timeout is `requestTimeoutMs` plus
   * its bytes at this rate (64 MiB at the default: 30 s + 1024 s), so a large blob on a slow link is not
   * abandoned and resent forever. A blob request that times out anyway is split into one request per blob,
   * so that one huge blob cannot hold the others back.
   * @default 65_536 (64 KiB/s, about 0.5 Mbit/s)
   */
  readonly minUploadBytesPerSecond?: number | undefined;
  /**
   * Base of the exponential backoff: the first retry waits up to this long (full jitter).
   * @default 250
   */
  readonly backoffBaseMs?: number | undefined;
  /**
   * Cap of the exponential backoff (a server's `Retry-After` may ask for longer and is honoured, up to
   * `maxRetryDelayMs`).
   * @default 30_000
   */
  readonly backoffMaxMs?: number | undefined;
  /**
   * No retry waits longer than this, whatever a server's `Retry-After` asks for (`Retry-After: 2592000` is
   * legal): the items are tried again after this long. At most 2_147_483_647 (what a timer can hold).
   * @default 3_600_000 (1 hour)
   */
  readonly maxRetryDelayMs?: number | undefined;
  /**
   * The server's limits (`GET /v1/limits`) are asked for again this often, and at once after a 413, so that
   * batches follow a server whose limits changed without a restart.
   * @default 300_000 (5 minutes)
   */
  readonly limitsRefreshMs?: number | undefined;
  /**
   * While the API key is refused (401/403), sending pauses; it is tried again this often, or at once after
   * `setApiKey`.
   * @default 60_000
   */
  readonly authRetryMs?: number | undefined;
  /**
   * Diagnostics sink. The uploader is silent without one and reports through events.
   * @default undefined (silent)
   */
  readonly logger?: UploaderLogger | undefined;
  /**
   * The `fetch` implementation used for HTTP, e.g. one with a custom agent.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/** Options with every default filled in. */
export type ResolvedUploaderOptions = {
  readonly [K in Exclude<keyof UploaderOptions, 'logger' | 'fetch'>]-?: Exclude<
    UploaderOptions[K],
    undefined
  >;
} & Pick<UploaderOptions, 'logger' | 'fetch'>;

/** The defaults of every optional option. */
export const DEFAULT_UPLOADER_OPTIONS = Object.freeze({
  durability: 'fsync',
  maxQueueBytes: 256 * 1024 * 1024,
  maxBlobQueueBytes: 1024 * 1024 * 1024,
  whenFull: 'reject',
  maxBatchItems: 500,
  maxBatchBytes: 1024 * 1024,
  maxBatchDelayMs: 200,
  gzipMinBytes: 16 * 1024,
  minConcurrency: 1,
  maxConcurrency: 8,
  latencyTargetMs: 2000,
  blobConcurrency: 2,
  requestTimeoutMs: 30_000,
  minUploadBytesPerSecond: 64 * 1024,
  backoffBaseMs: 250,
  backoffMaxMs: 30_000,
  maxRetryDelayMs: 3_600_000,
  limitsRefreshMs: 300_000,
  authRetryMs: 60_000,
} as const satisfies Omit<ResolvedUploaderOptions, 'endpoint' | 'apiKey' | 'directory'>);

function fail(name: string, value: unknown, expected: string): never {
  throw new TypeError(
    `Expected \`${name}\` to be ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

function nonEmptyString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) fail(name, value, 'a non-empty string');
}

function integerAtLeast(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(name, value, `an integer >= ${min}`);
  }
}

/** A duration in ms that a timer can hold. */
function durationAtLeast(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_TIMER_MS) {
    fail(name, value, `an integer from ${min} to ${MAX_TIMER_MS} (ms)`);
  }
}

/**
 * Checks that `apiKey` is usable in an `Authorization` header (fetch drops whitespace around a header
 * value, so only what is inside counts); the key is never put in the message.
 */
export function validateApiKey(value: unknown): asserts value is string {
  nonEmptyString('apiKey', value);
  if (!isSendableKey((value as string).trim())) {
    fail(
      'apiKey',
      '<redacted>',
      `a key of up to ${MAX_API_KEY_LENGTH} printable ASCII characters without spaces (as the server issues)`,
    );
  }
}

/**
 * Fills in defaults and validates every option at once.
 * @throws {TypeError} naming the first bad option and its value.
 */
export function resolveOptions(options: UploaderOptions): ResolvedUploaderOptions {
  if (typeof options !== 'object' || options === null) fail('options', options, 'an object');
  const resolved: ResolvedUploaderOptions = { ...DEFAULT_UPLOADER_OPTIONS, ...stripUndefined(options) };
  nonEmptyString('endpoint', resolved.endpoint);
  let url: URL;
  try {
    url = new URL(resolved.endpoint);
  } catch (error) {
    throw new TypeError(
      `Expected \`endpoint\` to be an absolute URL, got ${JSON.stringify(shownEndpoint(resolved.endpoint, undefined))}`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail('endpoint', shownEndpoint(resolved.endpoint, url), 'an http(s) URL');
  if (url.username !== '' || url.password !== '') {
    // fetch refuses every request to such a URL, which would only show as endless network errors.
    fail(
      'endpoint',
      shownEndpoint(resolved.endpoint, url),
      'a URL without credentials (user:password@): the API key goes in `apiKey`',
    );
  }
  validateApiKey(resolved.apiKey);
  nonEmptyString('directory', resolved.directory);
  if (resolved.durability !== 'fsync' && resolved.durability !== 'os') {
    fail('durability', resolved.durability, "'fsync' or 'os'");
  }
  if (resolved.whenFull !== 'reject' && resolved.whenFull !== 'drop-oldest') {
    fail('whenFull', resolved.whenFull, "'reject' or 'drop-oldest'");
  }
  integerAtLeast('maxQueueBytes', resolved.maxQueueBytes, 1);
  integerAtLeast('maxBlobQueueBytes', resolved.maxBlobQueueBytes, 1);
  integerAtLeast('maxBatchItems', resolved.maxBatchItems, 1);
  integerAtLeast('maxBatchBytes', resolved.maxBatchBytes, 64);
  durationAtLeast('maxBatchDelayMs', resolved.maxBatchDelayMs, 0);
  integerAtLeast('gzipMinBytes', resolved.gzipMinBytes, 0);
  integerAtLeast('minConcurrency', resolved.minConcurrency, 1);
  integerAtLeast('maxConcurrency', resolved.maxConcurrency, resolved.minConcurrency);
  durationAtLeast('latencyTargetMs', resolved.latencyTargetMs, 1);
  integerAtLeast('blobConcurrency', resolved.blobConcurrency, 1);
  durationAtLeast('requestTimeoutMs', resolved.requestTimeoutMs, 1);
  integerAtLeast('minUploadBytesPerSecond', resolved.minUploadBytesPerSecond, 1);
  durationAtLeast('backoffBaseMs', resolved.backoffBaseMs, 1);
  durationAtLeast('backoffMaxMs', resolved.backoffMaxMs, resolved.backoffBaseMs);
  durationAtLeast('maxRetryDelayMs', resolved.maxRetryDelayMs, 1);
  durationAtLeast('limitsRefreshMs', resolved.limitsRefreshMs, 1);
  durationAtLeast('authRetryMs', resolved.authRetryMs, 1);
  if (resolved.fetch !== undefined && typeof resolved.fetch !== 'function')
    fail('fetch', resolved.fetch, 'a function');
  if (resolved.logger !== undefined && typeof resolved.logger?.warn !== 'function') {
    fail('logger', resolved.logger, 'a logger with debug/info/warn/error methods');
  }
  return Object.freeze(resolved);
}

/** `endpoint` as an error message may show it: credentials in it (`url`, when it parses) are masked. */
function shownEndpoint(endpoint: string, url: URL | undefined): string {
  if (url !== undefined) {
    if (url.username === '' && url.password === '') return endpoint;
    return `${url.protocol}//<credentials>@${url.host}${url.pathname}${url.search}${url.hash}`;
  }
  // Unparsable: whatever stands before its last `@` may be a password.
  const at = endpoint.lastIndexOf('@');
  return at === -1 ? endpoint : `<credentials>@${endpoint.slice(at + 1)}`;
}

/** `value` without its `undefined` properties, so that spreading it keeps the defaults under them. */
function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/**
 * Validates the options of `flush()`.
 * @throws {TypeError} naming `timeoutMs` when it is not an integer from 0 to 2_147_483_647.
 */
export function validateFlushOptions(options: unknown): { timeoutMs: number | undefined } {
  if (typeof options !== 'object' || options === null) fail('options', options, 'an object');
  const { timeoutMs } = options as { timeoutMs?: unknown };
  if (timeoutMs !== undefined) durationAtLeast('timeoutMs', timeoutMs, 0);
  return { timeoutMs: timeoutMs as number | undefined };
}

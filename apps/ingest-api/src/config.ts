import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  isSendableKey,
  type Limits,
  MANIFEST_FIELD,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_ID_LENGTH,
  maxManifestBytes,
} from '@sluice/contracts';
import { z } from 'zod';
import { isValidSourceName } from './auth/api-keys.js';
import { ConfigError } from './errors.js';
import type { S3ObjectStoreOptions } from './object-store/s3-object-store.js';

/** One `source:key` pair of `API_KEYS`. */
export interface ApiKeySeed {
  readonly source: string;
  readonly key: string;
}

/**
 * Connection settings of an S3-compatible object store (`S3_*`); absent means the local `DATA_DIR/objects`.
 * Unset variables are left `undefined` so the adapter's documented defaults apply.
 */
export type S3Config = S3ObjectStoreOptions;

/** HTTP server settings: where to listen and how long slow clients may take. */
export interface HttpConfig {
  /** @default 8080 */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host: string;
  /** Milliseconds a client has to send a request's headers (`HEADERS_TIMEOUT_MS`). @default 10000 */
  readonly headersTimeoutMs: number;
  /** Milliseconds a client has to send a whole request, headers and body (`REQUEST_TIMEOUT_MS`). @default 300000 */
  readonly requestTimeoutMs: number;
  /** Milliseconds a connection may stay silent, mid-request or mid-answer (`CONNECTION_TIMEOUT_MS`). @default 30000 */
  readonly connectionTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection stays open between requests (`KEEP_ALIVE_TIMEOUT_MS`). @default 72000 */
  readonly keepAliveTimeoutMs: number;
  /**
   * The proxies whose `X-Forwarded-For` names the client (`TRUST_PROXY`): their addresses and CIDR ranges,
   * comma-separated. Behind a load balancer, per-client limits (failed admin logins) need the real client
   * address, not the balancer's. Only addresses: trusting "any" proxy or a hop count would let a client
   * that reaches the server directly name itself anything. @default [] (the peer address is the client)
   */
  readonly trustProxy: readonly string[];
}

/** Which API keys a start grants. */
export interface AuthConfig {
  /**
   * Keys seeded into the sources table; unset means the development source `dev` / `dev-key` on a
   * loopback `host`, and on any other only keys made with `sources:create`.
   */
  readonly apiKeys: readonly ApiKeySeed[] | undefined;
  /** The address the server listens on (`HOST`); only a loopback one is granted the development key. */
  readonly host: string;
}

/** The admin API's key (`ADMIN_KEY`). */
export interface AdminConfig {
  /**
   * `Authorization: Bearer` key of `/admin/v1`; unset means the development admin key on a loopback
   * `host` (see {@link adminKeyOf}).
   */
  readonly key: string | undefined;
  /** The address the server listens on (`HOST`); only a loopback one is granted the development admin key. */
  readonly host: string;
  /** Failed admin authentications a client address may make at once. @default 10 */
  readonly authFailureBurst: number;
  /** Failed admin authentications per second a client address regains. @default 1 */
  readonly authFailuresPerSecond: number;
  /** Events per second one live stream sends at most. @default 20 */
  readonly liveEventsPerSecond: number;
  /** Milliseconds between heartbeat comments of a live stream. @default 15000 */
  readonly liveHeartbeatMs: number;
}

/** The database and its connection limits. */
export interface DbConfig {
  /** PostgreSQL connection string (`DATABASE_URL`); unset uses embedded PGlite in {@link DbConfig.embeddedDirectory}. */
  readonly url: string | undefined;
  /** Directory of the embedded PGlite database. @default `DATA_DIR/pglite` */
  readonly embeddedDirectory: string;
  /** Most PostgreSQL connections of this process. @default 10 */
  readonly poolSize: number;
  /** Requests that may wait for a database connection before new ones get 503. @default 200 */
  readonly maxWaiting: number;
  /** Milliseconds a request waits for a database connection before it gets 503. @default 5000 */
  readonly acquireTimeoutMs: number;
  /**
   * Milliseconds a start keeps retrying an unreachable PostgreSQL, with backoff, before it gives up
   * and the process exits 1 (`DB_CONNECT_RETRY_MS`). @default 60000
   */
  readonly connectRetryMs: number;
  /**
   * Bytes the embedded database's file system must keep free; below it every database operation gets 503
   * (`EMBEDDED_MIN_FREE_BYTES`). @default 64 MiB
   */
  readonly embeddedMinFreeBytes: number;
}

/** Per-source request rate limit. */
export interface RateLimitConfig {
  /** Sustained requests per second allowed per source (`RATE_LIMIT_RPS`). @default 200 */
  readonly rps: number;
  /** Requests a source may send in a burst above the sustained rate (`RATE_LIMIT_BURST`). @default 400 */
  readonly burst: number;
}

/** Blob worker settings; an unset one uses the worker's default. */
export interface WorkerConfig {
  /** Blob uploads one worker runs at once (`WORKER_CONCURRENCY`). */
  readonly concurrency?: number | undefined;
  /** Milliseconds between worker polls while no blob is due (`WORKER_POLL_INTERVAL_MS`). */
  readonly pollIntervalMs?: number | undefined;
  /** Milliseconds a worker's claim on a blob stays valid (`WORKER_LEASE_MS`). */
  readonly leaseMs?: number | undefined;
  /** Upload attempts before a blob is `failed` (`WORKER_MAX_ATTEMPTS`). */
  readonly maxAttempts?: number | undefined;
  /** Delay before the first retry, doubled per attempt (`WORKER_BACKOFF_BASE_MS`). */
  readonly backoffBaseMs?: number | undefined;
}

/** The disk spool blob uploads are verified into before they are staged. */
export interface SpoolConfig {
  /** @default `DATA_DIR/spool` */
  readonly directory: string;
  /** Most bytes blob uploads in flight may hold in the spool (`SPOOL_MAX_BYTES`). @default 1 GiB */
  readonly maxBytes: number;
}

/** `/metrics` settings. */
export interface MetricsConfig {
  /** Milliseconds one reading of the blob counts serves `/metrics` scrapes (`METRICS_CACHE_MS`). @default 5000 */
  readonly cacheMs: number;
}

/** The ingest API's whole configuration, parsed once by {@link loadConfig}, in one group per concern. */
export interface Config {
  /** @default 'all' */
  readonly role: 'api' | 'worker' | 'all';
  /** pino level. @default 'info' */
  readonly logLevel: string;
  /** Embedded database, spool and local object store live under it. @default './.data' */
  readonly dataDir: string;
  readonly http: HttpConfig;
  readonly auth: AuthConfig;
  readonly admin: AdminConfig;
  readonly db: DbConfig;
  /** Object store; unset uses the local directory `DATA_DIR/objects`. */
  readonly s3: S3Config | undefined;
  /** Effective request limits, published at `GET /v1/limits`. @default DEFAULT_LIMITS */
  readonly limits: Limits;
  readonly rateLimit: RateLimitConfig;
  readonly worker: WorkerConfig;
  readonly spool: SpoolConfig;
  readonly metrics: MetricsConfig;
}

/** The development source used when `API_KEYS` is unset on a loopback address. */
export const DEV_API_KEY: ApiKeySeed = Object.freeze({ source: 'dev', key: 'dev-key' });

/** The admin key used when `ADMIN_KEY` is unset on a loopback address. */
export const DEV_ADMIN_KEY = 'dev-admin-key';

/** Fewest characters of `ADMIN_KEY`: it guards every source's data. */
export const MIN_ADMIN_KEY_LENGTH = 16;

/** Room for what a record holds besides its data (id, type, ts, hash, keys and separators). */
const ITEM_ENVELOPE_BYTES = 1024;

/** The `S3_*` variables that configure the store `S3_BUCKET` names, and mean nothing without it. */
const S3_SETTINGS = [
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'S3_REQUEST_TIMEOUT_MS',
  'S3_CONNECT_TIMEOUT_MS',
  'S3_MAX_SOCKETS',
] as const;

/**
 * Longest multipart boundary (RFC 2046). Clients choose shorter ones: Node's fetch, which the SDK
 * sends with, 32 characters; browsers and curl about 40.
 */
const MAX_BOUNDARY_CHARS = 70;

/**
 * Bytes a multipart part adds around its content with these headers: the delimiter line, the headers,
 * the blank line, and the line break after the content.
 */
function partFramingBytes(headers: readonly string[]): number {
  const delimiter = `--${'-'.repeat(MAX_BOUNDARY_CHARS)}\r\n`;
  const before = `${delimiter}${headers.map((header) => `${header}\r\n`).join('')}\r\n`;
  const after = '\r\n';
  return Buffer.byteLength(before) + Buffer.byteLength(after);
}

/**
 * Most bytes a `POST /v1/blobs` body of `maxBlobsPerRequest` blobs adds to the blobs' own bytes, as a
 * client keeping to the limits sends it (the SDK's way: a `manifest` field written by `JSON.stringify`,
 * then one file part per blob, named and filed under its id and typed with its contentType): the
 * manifest with every entry at its longest, each part's framing, and the closing delimiter.
 */
function blobRequestOverheadOf(limits: Pick<Limits, 'maxBlobsPerRequest' | 'maxBlobMetaBytes'>): number {
  const manifestBytes = maxManifestBytes(limits);
  const manifestPart = partFramingBytes([`Content-Disposition: form-data; name="${MANIFEST_FIELD}"`]);
  const id = 'i'.repeat(MAX_ID_LENGTH);
  const blobPart = partFramingBytes([
    `Content-Disposition: form-data; name="${id}"; filename="${id}"`,
    `Content-Type: ${'c'.repeat(MAX_CONTENT_TYPE_LENGTH)}`,
  ]);
  const closing = Buffer.byteLength(`--${'-'.repeat(MAX_BOUNDARY_CHARS)}--\r\n`);
  return manifestPart + manifestBytes + limits.maxBlobsPerRequest * blobPart + closing;
}

/** Fewest characters of a key of `API_KEYS`. */
const MIN_API_KEY_LENGTH = 8;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Whether `key` is something an HTTP client can send as `Authorization: Bearer <key>`: at least
 * `minLength` printable ASCII characters without spaces. A space or a non-ASCII character would start
 * fine and then never match.
 */
function isKeyOfLength(key: string, minLength: number): boolean {
  return key.length >= minLength && isSendableKey(key);
}

/** What {@link isKeyOfLength} asks of a key, for messages. */
function sendableKeyRule(minLength: number): string {
  return `at least ${minLength} printable ASCII characters without spaces`;
}

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** The longest delay a Node timer holds: a longer one fires at once (with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2_147_483_647;

const positiveInt = <Fallback extends number | undefined>(
  fallback: Fallback,
  max = Number.MAX_SAFE_INTEGER,
) =>
  z
    .string()
    .optional()
    .transform((value, ctx): number | Fallback => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isSafeInteger(parsed) || parsed <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive integer, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      if (parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${max}, got ${parsed}` });
        return z.NEVER;
      }
      return parsed;
    });

/** A duration in ms (`*_MS`): a positive integer a timer can hold. */
const durationMs = <Fallback extends number | undefined>(fallback: Fallback) =>
  positiveInt(fallback, MAX_TIMER_MS);

const booleanFlag = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return false;
    const text = value.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(text)) return true;
    if (['0', 'false', 'no'].includes(text)) return false;
    ctx.addIssue({ code: 'custom', message: `must be true or false, got ${JSON.stringify(value)}` });
    return z.NEVER;
  });

const apiKeys = z
  .string()
  .optional()
  .transform((value, ctx): ApiKeySeed[] | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    const seeds: ApiKeySeed[] = [];
    /** Each seed's entry number in API_KEYS, for messages. */
    const positions: number[] = [];
    for (const [index, pair] of value.split(',').entries()) {
      const text = pair.trim();
      if (text === '') continue;
      const colon = text.indexOf(':');
      const source = colon === -1 ? '' : text.slice(0, colon);
      const key = colon === -1 ? '' : text.slice(colon + 1);
      if (!isValidSourceName(source) || key.length < MIN_API_KEY_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          message: `entries must be source:key with a source of [A-Za-z0-9._-] and a key of ${MIN_API_KEY_LENGTH}+ characters`,
        });
        return z.NEVER;
      }
      if (!isKeyOfLength(key, MIN_API_KEY_LENGTH)) {
        // The key is a secret: the message names its entry, never the key.
        ctx.addIssue({
          code: 'custom',
          message: `entry ${index + 1} (source ${source}): the key must be ${sendableKeyRule(MIN_API_KEY_LENGTH)}`,
        });
        return z.NEVER;
      }
      const earlier = seeds.findIndex((seed) => seed.key === key);
      if (earlier !== -1) {
        // One key is one source's: the same key twice would leave which source it stands for to chance.
        ctx.addIssue({
          code: 'custom',
          message: `entries ${positions[earlier]} and ${index + 1} have the same key: give each its own`,
        });
        return z.NEVER;
      }
      seeds.push({ source, key });
      positions.push(index + 1);
    }
    return seeds.length === 0 ? undefined : seeds;
  });

/** An IPv4 or IPv6 address, or a CIDR range whose prefix fits its family (`10.0.0.0/33` is refused). */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const EnvSchema = z.object({
  PORT: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return 8080;
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a port number, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return port;
    }),
  HOST: optionalString.transform((value) => value ?? '127.0.0.1'),
  DATABASE_URL: optionalString,
  DATA_DIR: optionalString.transform((value) => value ?? './.data'),
  // Unset S3_* and WORKER_* numbers stay undefined: the adapter and the worker own their defaults.
  S3_BUCKET: optionalString,
  S3_ENDPOINT: optionalString,
  S3_REGION: optionalString,
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: booleanFlag,
  S3_REQUEST_TIMEOUT_MS: durationMs(undefined),
  S3_CONNECT_TIMEOUT_MS: durationMs(undefined),
  S3_MAX_SOCKETS: positiveInt(undefined),
  API_KEYS: apiKeys,
  ADMIN_KEY: optionalString.refine(
    (value) => value === undefined || isKeyOfLength(value, MIN_ADMIN_KEY_LENGTH),
    `must be ${sendableKeyRule(MIN_ADMIN_KEY_LENGTH)}`,
  ),
  TRUST_PROXY: optionalString.transform((value, ctx): string[] => {
    if (value === undefined) return [];
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every(isAddressOrRange)) return entries;
    ctx.addIssue({
      code: 'custom',
      message: `must be the proxies' addresses or CIDR ranges, comma-separated, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }),
  ROLE: optionalString.pipe(z.enum(['api', 'worker', 'all']).optional()).transform((value) => value ?? 'all'),
  LOG_LEVEL: optionalString.pipe(z.enum(LOG_LEVELS).optional()).transform((value) => value ?? 'info'),
  EMBEDDED_MIN_FREE_BYTES: positiveInt(64 * 1024 * 1024),
  MAX_BATCH_ITEMS: positiveInt(DEFAULT_LIMITS.maxBatchItems),
  MAX_BATCH_BYTES: positiveInt(DEFAULT_LIMITS.maxBatchBytes),
  MAX_ITEM_DATA_BYTES: positiveInt(DEFAULT_LIMITS.maxItemDataBytes),
  MAX_BLOBS_PER_REQUEST: positiveInt(DEFAULT_LIMITS.maxBlobsPerRequest),
  MAX_BLOB_REQUEST_BYTES: positiveInt(DEFAULT_LIMITS.maxBlobRequestBytes),
  MAX_BLOB_BYTES: positiveInt(DEFAULT_LIMITS.maxBlobBytes),
  MAX_BLOB_META_BYTES: positiveInt(DEFAULT_LIMITS.maxBlobMetaBytes),
  RATE_LIMIT_RPS: positiveInt(200),
  RATE_LIMIT_BURST: positiveInt(400),
  DB_POOL_SIZE: positiveInt(10),
  DB_MAX_WAITING: positiveInt(200),
  DB_ACQUIRE_TIMEOUT_MS: durationMs(5000),
  DB_CONNECT_RETRY_MS: durationMs(60_000),
  WORKER_CONCURRENCY: positiveInt(undefined),
  WORKER_POLL_INTERVAL_MS: durationMs(undefined),
  WORKER_LEASE_MS: durationMs(undefined),
  WORKER_MAX_ATTEMPTS: positiveInt(undefined),
  WORKER_BACKOFF_BASE_MS: durationMs(undefined),
  HEADERS_TIMEOUT_MS: durationMs(10_000),
  REQUEST_TIMEOUT_MS: durationMs(300_000),
  CONNECTION_TIMEOUT_MS: durationMs(30_000),
  KEEP_ALIVE_TIMEOUT_MS: durationMs(72_000),
  SPOOL_MAX_BYTES: positiveInt(1024 * 1024 * 1024),
  METRICS_CACHE_MS: durationMs(5000),
});

/** `a`, `a and b`, `a, b and c`. */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * What is wrong with the `S3_*` variables set in `env`: settings without `S3_BUCKET` (the blobs would go
 * to the local `DATA_DIR/objects` instead, on a worker its own disk, and their staged bytes would be
 * freed as if uploaded), or one half of the static credentials (the store would sign with whatever
 * credentials the host has instead).
 */
function s3SettingProblems(env: Readonly<Record<string, string | undefined>>, hasBucket: boolean): string[] {
  const isSet = (name: string): boolean => (env[name]?.trim() ?? '') !== '';
  const problems: string[] = [];
  const settings = S3_SETTINGS.filter(isSet);
  if (!hasBucket && settings.length > 0) {
    problems.push(
      `${listOf(settings)} ${settings.length === 1 ? 'is' : 'are'} set without S3_BUCKET: set S3_BUCKET to the bucket blobs are uploaded to, or unset ${settings.length === 1 ? 'it' : 'them'} to keep blobs in the local directory DATA_DIR/objects`,
    );
  }
  const [id, secret] = [isSet('S3_ACCESS_KEY_ID'), isSet('S3_SECRET_ACCESS_KEY')];
  if (id !== secret) {
    const [given, missing] = id
      ? ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']
      : ['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID'];
    problems.push(
      `${given} is set without ${missing}: set both, or neither to use the AWS default credentials (environment, profile, instance role)`,
    );
  }
  return problems;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** True when this start grants the development admin key: `ADMIN_KEY` unset and a loopback `HOST`. */
export function grantsDevAdminKey(config: Pick<AdminConfig, 'key' | 'host'>): boolean {
  return config.key === undefined && isLoopbackHost(config.host);
}

/**
 * The admin key this start accepts: `ADMIN_KEY`, else {@link DEV_ADMIN_KEY} on a loopback address.
 * @throws {ConfigError} on any other address without `ADMIN_KEY`.
 */
export function adminKeyOf(config: Pick<AdminConfig, 'key' | 'host'>): string {
  if (config.key !== undefined) return config.key;
  if (grantsDevAdminKey(config)) return DEV_ADMIN_KEY;
  throw new ConfigError(
    `refusing to listen on ${config.host} without ADMIN_KEY: set ADMIN_KEY to a secret of ${MIN_ADMIN_KEY_LENGTH}+ characters (the admin API's key)`,
  );
}

/**
 * Parses the environment (SPEC §4) into a {@link Config}. This is the only place that reads it.
 * Whether a non-loopback `HOST` without `API_KEYS` may start depends on the database (keys made with
 * `sources:create`), so that is checked when the app starts, not here; whether it has an admin key is
 * {@link adminKeyOf}'s question, asked by the server before anything opens (the key and blob commands
 * read this configuration too, and need no admin key).
 * @param env the variables to read. @default process.env
 * @throws {ConfigError} naming every bad variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { cause: parsed.error });
  }
  const e = parsed.data;
  const s3Problems = s3SettingProblems(env, e.S3_BUCKET !== undefined);
  if (s3Problems.length > 0) throw new ConfigError(s3Problems.join('; '));
  if (e.ROLE === 'api' && e.DATABASE_URL === undefined) {
    // The embedded database opens in one process only: no worker could ever move this API's blobs, which
    // would be answered `stored` and stay staged for good.
    throw new ConfigError(
      'ROLE=api needs DATABASE_URL: the embedded database opens in one process only, so no worker process could upload the blobs this API stores; set DATABASE_URL for separate api and worker processes, or use ROLE=all',
    );
  }
  const admin: AdminConfig = {
    key: e.ADMIN_KEY,
    host: e.HOST,
    authFailureBurst: 10,
    authFailuresPerSecond: 1,
    liveEventsPerSecond: 20,
    liveHeartbeatMs: 15_000,
  };
  if (e.ADMIN_KEY !== undefined && e.API_KEYS?.some((seed) => seed.key === e.ADMIN_KEY)) {
    throw new ConfigError('ADMIN_KEY must differ from every key of API_KEYS');
  }
  if (e.SPOOL_MAX_BYTES < e.MAX_BLOB_REQUEST_BYTES) {
    // A request the spool could never hold would be refused with a retryable 503 forever.
    throw new ConfigError(
      `SPOOL_MAX_BYTES (${e.SPOOL_MAX_BYTES}) must be at least MAX_BLOB_REQUEST_BYTES (${e.MAX_BLOB_REQUEST_BYTES})`,
    );
  }
  // An item within the published limits must fit a request, or its single-item request gets 413 and the
  // client dead-letters it although it kept to them.
  if (e.MAX_ITEM_DATA_BYTES + ITEM_ENVELOPE_BYTES > e.MAX_BATCH_BYTES) {
    throw new ConfigError(
      `MAX_ITEM_DATA_BYTES (${e.MAX_ITEM_DATA_BYTES}) plus ${ITEM_ENVELOPE_BYTES} bytes for the rest of an item must not exceed MAX_BATCH_BYTES (${e.MAX_BATCH_BYTES})`,
    );
  }
  // Likewise a blob of MAX_BLOB_BYTES, in a request of as many blobs as allowed (the others empty) whose
  // manifest entries are all at their longest: a body that exceeds MAX_BLOB_REQUEST_BYTES gets 413.
  const blobOverhead = blobRequestOverheadOf({
    maxBlobsPerRequest: e.MAX_BLOBS_PER_REQUEST,
    maxBlobMetaBytes: e.MAX_BLOB_META_BYTES,
  });
  const blobRequestBytes = e.MAX_BLOB_BYTES + blobOverhead;
  if (blobRequestBytes > e.MAX_BLOB_REQUEST_BYTES) {
    throw new ConfigError(
      `MAX_BLOB_REQUEST_BYTES (${e.MAX_BLOB_REQUEST_BYTES}) is too small: a request with a blob of MAX_BLOB_BYTES (${e.MAX_BLOB_BYTES}) needs at least ${blobRequestBytes} bytes, ${blobOverhead} of them for the manifest of MAX_BLOBS_PER_REQUEST (${e.MAX_BLOBS_PER_REQUEST}) entries with MAX_BLOB_META_BYTES (${e.MAX_BLOB_META_BYTES}) of meta each and the multipart framing of its parts; raise MAX_BLOB_REQUEST_BYTES to ${blobRequestBytes}, or lower MAX_BLOB_BYTES, MAX_BLOB_META_BYTES or MAX_BLOBS_PER_REQUEST`,
    );
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS})`,
    );
  }
  return {
    role: e.ROLE,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    http: {
      port: e.PORT,
      host: e.HOST,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: e.CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY,
    },
    auth: { apiKeys: e.API_KEYS, host: e.HOST },
    admin,
    db: {
      url: e.DATABASE_URL,
      embeddedDirectory: join(e.DATA_DIR, 'pglite'),
      poolSize: e.DB_POOL_SIZE,
      maxWaiting: e.DB_MAX_WAITING,
      acquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
      connectRetryMs: e.DB_CONNECT_RETRY_MS,
      embeddedMinFreeBytes: e.EMBEDDED_MIN_FREE_BYTES,
    },
    s3:
      e.S3_BUCKET === undefined
        ? undefined
        : {
            bucket: e.S3_BUCKET,
            endpoint: e.S3_ENDPOINT,
            region: e.S3_REGION,
            accessKeyId: e.S3_ACCESS_KEY_ID,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY,
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
            requestTimeoutMs: e.S3_REQUEST_TIMEOUT_MS,
            connectionTimeoutMs: e.S3_CONNECT_TIMEOUT_MS,
            maxSockets: e.S3_MAX_SOCKETS,
          },
    limits: {
      maxBatchItems: e.MAX_BATCH_ITEMS,
      maxBatchBytes: e.MAX_BATCH_BYTES,
      maxItemDataBytes: e.MAX_ITEM_DATA_BYTES,
      maxBlobsPerRequest: e.MAX_BLOBS_PER_REQUEST,
      maxBlobRequestBytes: e.MAX_BLOB_REQUEST_BYTES,
      maxBlobBytes: e.MAX_BLOB_BYTES,
      maxBlobMetaBytes: e.MAX_BLOB_META_BYTES,
    },
    rateLimit: { rps: e.RATE_LIMIT_RPS, burst: e.RATE_LIMIT_BURST },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      pollIntervalMs: e.WORKER_POLL_INTERVAL_MS,
      leaseMs: e.WORKER_LEASE_MS,
      maxAttempts: e.WORKER_MAX_ATTEMPTS,
      backoffBaseMs: e.WORKER_BACKOFF_BASE_MS,
    },
    spool: { directory: join(e.DATA_DIR, 'spool'), maxBytes: e.SPOOL_MAX_BYTES },
    metrics: { cacheMs: e.METRICS_CACHE_MS },
  };
}

import { join } from 'node:path';
import { BlobManifestItemSchema, DEFAULT_LIMITS, type Limits, MANIFEST_FIELD } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { configKeySeeds, grantsDevKey } from '../src/auth/config-keys.js';
import { DEV_API_KEY, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      http: { port: 8080, host: '127.0.0.1' },
      db: {
        url: undefined,
        embeddedDirectory: join('./.data', 'pglite'),
        poolSize: 10,
        maxWaiting: 200,
        acquireTimeoutMs: 5000,
        connectRetryMs: 60_000,
      },
      dataDir: './.data',
      s3: undefined,
      auth: { apiKeys: undefined, host: '127.0.0.1' },
      admin: { key: undefined, host: '127.0.0.1' },
      role: 'all',
      logLevel: 'info',
      limits: DEFAULT_LIMITS,
      rateLimit: { rps: 200, burst: 400 },
      worker: {
        concurrency: undefined,
        pollIntervalMs: undefined,
        leaseMs: undefined,
        maxAttempts: undefined,
        backoffBaseMs: undefined,
      },
      spool: { directory: join('./.data', 'spool') },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u@db:5432/sluice',
      DATA_DIR: '/var/lib/sluice',
      S3_BUCKET: 'b',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
      S3_REQUEST_TIMEOUT_MS: '1500',
      S3_MAX_SOCKETS: '7',
      API_KEYS: 'web:key-web-123, app:key-app-456',
      ADMIN_KEY: 'admin-key-0123456789',
      ROLE: 'api',
      LOG_LEVEL: 'debug',
      MAX_BATCH_ITEMS: '10',
      MAX_ITEM_DATA_BYTES: '100',
      RATE_LIMIT_RPS: '5',
      DB_CONNECT_RETRY_MS: '2500',
    });
    expect(config).toMatchObject({
      http: { port: 9000, host: '0.0.0.0' },
      db: {
        url: 'postgres://u@db:5432/sluice',
        embeddedDirectory: '/var/lib/sluice/pglite',
        connectRetryMs: 2500,
      },
      dataDir: '/var/lib/sluice',
      spool: { directory: '/var/lib/sluice/spool' },
      s3: {
        bucket: 'b',
        endpoint: 'http://minio:9000',
        region: 'eu-west-1',
        accessKeyId: 'id',
        secretAccessKey: 'secret',
        forcePathStyle: true,
        requestTimeoutMs: 1500,
        connectionTimeoutMs: undefined,
        maxSockets: 7,
      },
      auth: {
        apiKeys: [
          { source: 'web', key: 'key-web-123' },
          { source: 'app', key: 'key-app-456' },
        ],
        host: '0.0.0.0',
      },
      admin: { key: 'admin-key-0123456789', host: '0.0.0.0' },
      role: 'api',
      logLevel: 'debug',
      limits: { ...DEFAULT_LIMITS, maxBatchItems: 10, maxItemDataBytes: 100 },
      rateLimit: { rps: 5, burst: 400 },
    });
  });

  it('grants the development key only on loopback without API_KEYS; the database decides the rest at start', () => {
    // A non-loopback HOST without API_KEYS parses: whether it may start depends on keys made with
    // sources:create, which the auth plugin checks (test/api-key-lifecycle.test.ts).
    const open = loadConfig({ HOST: '0.0.0.0', ADMIN_KEY: 'admin-key-0123456789' });
    expect(open.auth.host).toBe('0.0.0.0');
    expect(grantsDevKey(open.auth)).toBe(false);
    expect(configKeySeeds(open.auth)).toEqual([]);
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      expect(grantsDevKey(loadConfig({ HOST: host }).auth)).toBe(true);
      expect(configKeySeeds(loadConfig({ HOST: host }).auth)).toEqual([DEV_API_KEY]);
    }
    const keyed = loadConfig({ HOST: '127.0.0.1', API_KEYS: 'web:key-web-123' });
    expect(grantsDevKey(keyed.auth)).toBe(false);
    expect(configKeySeeds(keyed.auth)).toEqual([{ source: 'web', key: 'key-web-123' }]);
  });

  it('names each bad variable', () => {
    expect(() => loadConfig({ PORT: 'http', ROLE: 'boss', MAX_BATCH_ITEMS: '0' })).toThrow(
      /PORT.*ROLE.*MAX_BATCH_ITEMS|PORT.*MAX_BATCH_ITEMS.*ROLE/s,
    );
    expect(() => loadConfig({ S3_BUCKET: 'b', S3_MAX_SOCKETS: '-1' })).toThrow(/S3_MAX_SOCKETS/);
    expect(() => loadConfig({ API_KEYS: 'no-colon' })).toThrow(/API_KEYS/);
    expect(() => loadConfig({ API_KEYS: 'web:short' })).toThrow(/API_KEYS/);
    expect(() => loadConfig({ DB_CONNECT_RETRY_MS: 'forever' })).toThrow(/DB_CONNECT_RETRY_MS/);
  });

  it('refuses the same key twice in API_KEYS, under one source or two, naming the entries but never the key', () => {
    for (const value of ['a:same-key-123,b:same-key-123', 'a:same-key-123, a:other-key-1 ,a:same-key-123']) {
      const failure = (() => {
        try {
          loadConfig({ API_KEYS: value });
        } catch (error) {
          return error as Error;
        }
        return undefined;
      })();
      expect(failure?.message).toMatch(/API_KEYS.*entries 1 and [23] have the same key/);
      expect(failure?.message).not.toContain('same-key-123');
    }
  });

  it('refuses API_KEYS entries whose key no client could send, naming the entry but never the key', () => {
    for (const [value, position] of [
      ['web:my secret key', 1],
      ['web:key-web-123,app:kéy-€-unicode', 2],
      ['web:key-web-123, app:key-app-456, ops:tab\tinside', 3],
    ] as const) {
      const start = () => loadConfig({ API_KEYS: value });
      expect(start).toThrow(new RegExp(`API_KEYS: entry ${position} .*printable ASCII`));
      const secret = value.split(',')[position - 1]?.split(':')[1] ?? '';
      expect(start).not.toThrow(secret);
    }
    expect(loadConfig({ API_KEYS: 'web:key-web-123' }).auth.apiKeys).toEqual([
      { source: 'web', key: 'key-web-123' },
    ]);
  });

  it('reads the connection timeouts, with defaults that cut off slow senders', () => {
    expect(loadConfig({}).http).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 300_000,
      connectionTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
    });
    expect(
      loadConfig({
        HEADERS_TIMEOUT_MS: '2000',
        REQUEST_TIMEOUT_MS: '60000',
        CONNECTION_TIMEOUT_MS: '5000',
        KEEP_ALIVE_TIMEOUT_MS: '65000',
      }).http,
    ).toMatchObject({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 60_000,
      connectionTimeoutMs: 5000,
      keepAliveTimeoutMs: 65_000,
    });
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' })).toThrow(/REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' })).toThrow(
      /HEADERS_TIMEOUT_MS.*REQUEST_TIMEOUT_MS/,
    );
  });

  it('bounds the blob spool, never below one whole blob request', () => {
    expect(loadConfig({}).spool.maxBytes).toBe(1024 * 1024 * 1024);
    expect(loadConfig({ SPOOL_MAX_BYTES: String(DEFAULT_LIMITS.maxBlobRequestBytes) }).spool.maxBytes).toBe(
      DEFAULT_LIMITS.maxBlobRequestBytes,
    );
    expect(() => loadConfig({ SPOOL_MAX_BYTES: '1000' })).toThrow(/SPOOL_MAX_BYTES.*MAX_BLOB_REQUEST_BYTES/);
    expect(
      loadConfig({
        SPOOL_MAX_BYTES: '100000',
        MAX_BLOB_REQUEST_BYTES: '100000',
        MAX_BLOB_BYTES: '1000',
        MAX_BLOB_META_BYTES: '100',
        MAX_BLOBS_PER_REQUEST: '2',
      }).spool.maxBytes,
    ).toBe(100_000);
  });

  it('refuses limits under which an item within the published limits could never be sent', () => {
    // A record with data at MAX_ITEM_DATA_BYTES must fit a batch, or its single-item batch gets 413 and is
    // dead-lettered although the client kept to the limits.
    expect(() => loadConfig({ MAX_ITEM_DATA_BYTES: '2000000', MAX_BATCH_BYTES: '2000000' })).toThrow(
      /MAX_ITEM_DATA_BYTES.*MAX_BATCH_BYTES/,
    );
    // Likewise a blob of MAX_BLOB_BYTES with its manifest in one request of MAX_BLOB_REQUEST_BYTES.
    expect(() => loadConfig({ MAX_BLOB_BYTES: String(64 * 1024 * 1024) })).toThrow(
      /MAX_BLOB_BYTES.*MAX_BLOB_REQUEST_BYTES/,
    );
    expect(loadConfig({ MAX_ITEM_DATA_BYTES: '100000', MAX_BATCH_BYTES: '200000' }).limits).toMatchObject({
      maxItemDataBytes: 100_000,
      maxBatchBytes: 200_000,
    });
  });

  it('refuses ROLE=api on the embedded database, where no worker process could ever upload its blobs', () => {
    expect(() => loadConfig({ ROLE: 'api' })).toThrow(/ROLE=api needs DATABASE_URL/);
    expect(loadConfig({ ROLE: 'api', DATABASE_URL: 'postgres://db/sluice' }).role).toBe('api');
    expect(loadConfig({ ROLE: 'all' }).role).toBe('all');
    expect(loadConfig({ ROLE: 'worker' }).role).toBe('worker');
  });

  it('refuses S3 settings without S3_BUCKET instead of keeping blobs on the local disk', () => {
    // Without a bucket the blobs would go to DATA_DIR/objects: on a worker container, its own ephemeral
    // disk, after which the staged bytes are freed as if uploaded.
    const settings = {
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret-value',
      S3_FORCE_PATH_STYLE: 'false',
      S3_REQUEST_TIMEOUT_MS: '1500',
      S3_CONNECT_TIMEOUT_MS: '1500',
      S3_MAX_SOCKETS: '7',
    };
    for (const [name, value] of Object.entries(settings)) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(
        new RegExp(`${name} is set without S3_BUCKET`),
      );
    }
    const worker = () =>
      loadConfig({
        ROLE: 'worker',
        S3_ENDPOINT: 'http://minio:9000',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 'secret-value',
      });
    expect(worker).toThrow(
      /S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set without S3_BUCKET: set S3_BUCKET/,
    );
    expect(worker).not.toThrow(/secret-value/);
    expect(loadConfig({ ...settings, S3_BUCKET: 'b' }).s3).toMatchObject({ bucket: 'b' });
    // Blank is unset, as for every variable.
    expect(loadConfig({ S3_ENDPOINT: ' ', S3_FORCE_PATH_STYLE: '' }).s3).toBeUndefined();
  });

  it('refuses one of S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY without the other, never echoing the secret', () => {
    // The store would otherwise ignore the one given and sign with whatever credentials the host has.
    expect(() => loadConfig({ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'id' })).toThrow(
      /S3_ACCESS_KEY_ID is set without S3_SECRET_ACCESS_KEY/,
    );
    const secretOnly = () => loadConfig({ S3_BUCKET: 'b', S3_SECRET_ACCESS_KEY: 'secret-value' });
    expect(secretOnly).toThrow(/S3_SECRET_ACCESS_KEY is set without S3_ACCESS_KEY_ID/);
    expect(secretOnly).not.toThrow(/secret-value/);
    // Neither: the AWS default credential chain (instance role, profile) signs.
    expect(loadConfig({ S3_BUCKET: 'b' }).s3).toMatchObject({
      accessKeyId: undefined,
      secretAccessKey: undefined,
    });
  });

  it('refuses a MAX_BLOB_REQUEST_BYTES too small for one blob of MAX_BLOB_BYTES with its manifest and framing', async () => {
    // One blob at MAX_BLOB_BYTES in its own request: the body also carries the manifest and the multipart
    // framing, and the SDK dead-letters a blob whose request gets 413.
    const reviewer = {
      MAX_BLOBS_PER_REQUEST: '1',
      MAX_BLOB_BYTES: '1048576',
      MAX_BLOB_REQUEST_BYTES: '1053696',
    };
    const needed = neededBlobRequestBytes(reviewer);
    // Under these limits one blob of 1 MiB, its manifest entry at its longest, makes a 1,054,735-byte body.
    expect(needed).toBeGreaterThanOrEqual(1_054_735);
    expect(() => loadConfig(reviewer)).toThrow(/raise MAX_BLOB_REQUEST_BYTES to \d+/);

    for (const limits of [
      reviewer,
      { MAX_BLOBS_PER_REQUEST: '3', MAX_BLOB_BYTES: '100000', MAX_BLOB_META_BYTES: '300' },
    ]) {
      const room = neededBlobRequestBytes(limits);
      // Exactly the room it asks for starts, a byte less does not.
      const config = loadConfig({ ...limits, MAX_BLOB_REQUEST_BYTES: String(room) });
      expect(config.limits.maxBlobRequestBytes).toBe(room);
      expect(() => loadConfig({ ...limits, MAX_BLOB_REQUEST_BYTES: String(room - 1) })).toThrow(
        new RegExp(`needs at least ${room} bytes`),
      );
      // And the largest request a client keeping to the limits sends is within it.
      expect(await largestBlobRequestBytes(config.limits)).toBeLessThanOrEqual(room);
    }
  });

  it('refuses durations a timer cannot hold (past 2^31 - 1 ms, where Node fires at once)', () => {
    for (const name of ['WORKER_LEASE_MS', 'REQUEST_TIMEOUT_MS', 'DB_CONNECT_RETRY_MS', 'METRICS_CACHE_MS']) {
      expect(() => loadConfig({ [name]: '3000000000' }), name).toThrow(new RegExp(`${name}.*2147483647`));
    }
    expect(loadConfig({ WORKER_LEASE_MS: '2147483647' }).worker.leaseMs).toBe(2_147_483_647);
    // The S3 client's timeouts too: past the limit every call to the store would time out at once.
    for (const name of ['S3_REQUEST_TIMEOUT_MS', 'S3_CONNECT_TIMEOUT_MS']) {
      expect(() => loadConfig({ S3_BUCKET: 'b', [name]: '3000000000' }), name).toThrow(
        new RegExp(`${name}.*2147483647`),
      );
    }
    expect(
      loadConfig({ S3_BUCKET: 'b', S3_REQUEST_TIMEOUT_MS: '2147483647', S3_CONNECT_TIMEOUT_MS: '2147483647' })
        .s3,
    ).toMatchObject({ requestTimeoutMs: 2_147_483_647, connectionTimeoutMs: 2_147_483_647 });
    // Unset, the store's own defaults apply.
    expect(loadConfig({ S3_BUCKET: 'b' }).s3).toMatchObject({
      requestTimeoutMs: undefined,
      connectionTimeoutMs: undefined,
    });
  });

  it('reads how long one reading of the blob counts serves /metrics', () => {
    expect(loadConfig({}).metrics.cacheMs).toBe(5000);
    expect(loadConfig({ METRICS_CACHE_MS: '15000' }).metrics.cacheMs).toBe(15_000);
    expect(() => loadConfig({ METRICS_CACHE_MS: 'soon' })).toThrow(/METRICS_CACHE_MS/);
  });
});

/** The MAX_BLOB_REQUEST_BYTES that `env` says it needs, read from the refusal of a too small one. */
function neededBlobRequestBytes(env: Record<string, string>): number {
  try {
    loadConfig({ ...env, MAX_BLOB_REQUEST_BYTES: '1' });
  } catch (error) {
    const needed = /MAX_BLOB_REQUEST_BYTES \(1\).* needs at least (\d+) bytes/.exec(
      (error as Error).message,
    )?.[1];
    if (needed !== undefined) return Number(needed);
    throw error;
  }
  throw new Error('MAX_BLOB_REQUEST_BYTES=1 was accepted');
}

/**
 * Bytes of the largest `POST /v1/blobs` body a client keeping to `limits` sends with one blob of
 * `maxBlobBytes` in it, built as the SDK builds it (a FormData: the manifest field, then one file part per
 * blob named and filed under its id, typed with its contentType) and serialized by Node's fetch. Every
 * field of each manifest entry is at its longest as JSON writes it, which the contract is checked to allow.
 */
async function largestBlobRequestBytes(limits: Limits): Promise<number> {
  const meta = { m: 'x'.repeat(limits.maxBlobMetaBytes - '{"m":""}'.length) };
  expect(Buffer.byteLength(JSON.stringify(meta))).toBe(limits.maxBlobMetaBytes);
  const items = Array.from({ length: limits.maxBlobsPerRequest }, (_, index) => ({
    id: String(index).padStart(128, '0'),
    // Four UTF-8 bytes per character.
    type: '\u{1F600}'.repeat(128),
    ts: Number.MAX_SAFE_INTEGER,
    // Quotes are written \" in JSON.
    contentType: `a/b;${'"'.repeat(251)}`,
    size: index === 0 ? limits.maxBlobBytes : 0,
    sha256: 'f'.repeat(64),
    meta,
  }));
  const [first] = items;
  if (first === undefined) throw new Error('no blobs');
  // Each field is at the longest the contract allows: one character more and the entry is refused.
  expect(BlobManifestItemSchema.safeParse(first).success).toBe(true);
  for (const longer of [
    { id: `${first.id}0` },
    { type: `${first.type}x` },
    { contentType: `${first.contentType}"` },
    { ts: first.ts + 1 },
  ]) {
    expect(
      BlobManifestItemSchema.safeParse({ ...first, ...longer }).success,
      JSON.stringify(Object.keys(longer)),
    ).toBe(false);
  }
  const form = new FormData();
  form.append(MANIFEST_FIELD, JSON.stringify({ items }));
  for (const item of items) {
    form.append(item.id, new Blob([new Uint8Array(item.size)], { type: item.contentType }), item.id);
  }
  const body = await new Request('http://localhost/v1/blobs', { method: 'POST', body: form }).arrayBuffer();
  return body.byteLength;
}

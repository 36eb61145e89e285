import { blobObjectKey, type ErrorBody, type IngestResponse } from '@sluice/contracts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { createTestDatabase, realPostgresAvailable, type TestDatabase, testConfig } from '../src/testing.js';
import { makeBlob, partsFor, postBlobs, type Server, sha256Hex, waitFor } from './blob-support.js';
import { type S3TestServer, startS3Server } from './support/s3-server.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn('!!! SKIPPED blob-database-outage: cutting the database connection needs a real PostgreSQL');
}

describe.skipIf(!realPg)('blobs during a database outage (ROLE=all, real PostgreSQL behind a proxy)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s3: S3TestServer;
  let app: FastifyInstance;
  let server: Server;

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startS3Server();
    const url = new URL(db.url ?? '');
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const s3Options = s3.storeOptions();
    app = await buildApp(
      testConfig(db, {
        db: { url: url.toString() },
        role: 'all',
        worker: { pollIntervalMs: 50 },
        logLevel: 'silent',
        s3: {
          bucket: s3Options.bucket,
          endpoint: s3Options.endpoint,
          region: 'us-east-1',
          accessKeyId: s3Options.accessKeyId,
          secretAccessKey: s3Options.secretAccessKey,
          forcePathStyle: true,
        },
      }),
    );
    server = {
      url: await app.listen({ port: 0, host: '127.0.0.1' }),
      apiKey: 'test-key',
      query: (sql, params) => app.db.query(sql, params),
    };
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await s3?.close();
    await db?.drop();
  });

  async function uploaded(id: string): Promise<boolean> {
    const [row] = await server.query<{ state: string }>('select state from blobs where id = $1', [id]);
    return row?.state === 'uploaded';
  }

  it('answers 503 and writes nothing while the database is down; API and worker recover by themselves', async () => {
    const first = makeBlob({ size: 3000 });
    expect((await postBlobs(server, partsFor([first]))).body.counts.stored).toBe(1);
    await waitFor('the first blob uploaded', () => uploaded(first.item.id));

    await proxy.down();
    const second = makeBlob({ size: 3000 });
    const during = await postBlobs<ErrorBody>(server, partsFor([second]));
    expect(during.status).toBe(503);
    expect(during.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    // Let the worker poll into the outage a few times.
    await new Promise((resolve) => setTimeout(resolve, 300));

    await proxy.up();
    let after = await postBlobs<IngestResponse | ErrorBody>(server, partsFor([second]));
    for (let attempt = 0; after.status !== 200 && attempt < 50; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await postBlobs<IngestResponse | ErrorBody>(server, partsFor([second]));
    }
    expect(after.status).toBe(200);
    // Stored, not duplicate: the refused request had written nothing.
    expect((after.body as IngestResponse).results).toEqual([{ id: second.item.id, status: 'stored' }]);
    await waitFor('the second blob uploaded by the recovered worker', () => uploaded(second.item.id));
    const store = new S3ObjectStore(s3.storeOptions());
    try {
      expect(sha256Hex((await store.get(blobObjectKey(second.item.sha256)))!)).toBe(second.item.sha256);
    } finally {
      await store.close();
    }
  });
});

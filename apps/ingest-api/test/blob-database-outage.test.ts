import { blobObjectKey, type ErrorBody, type IngestResponse } from '@sluice/contracts';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { realPostgresAvailable } from '../src/testing.js';
import { makeBlob, partsFor, postBlobs, type Server, sha256Hex, waitFor } from './blob-support.js';
import { appS3Config, test as base, describe, expect } from './support/fixtures.js';

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn('!!! SKIPPED blob-database-outage: cutting the database connection needs a real PostgreSQL');
}

/** The app with ROLE=all, uploading to the file's S3 server, on the file's database reached through `databaseProxy`. */
const it = base.extend('proxied', { scope: 'file' }, ({ databaseProxy, s3, startApp }) => {
  return startApp({
    db: { url: databaseProxy.url },
    role: 'all',
    worker: { pollIntervalMs: 50 },
    logLevel: 'silent',
    s3: appS3Config(s3),
  });
});

describe.skipIf(!realPg)('blobs during a database outage (ROLE=all, real PostgreSQL behind a proxy)', () => {
  async function uploaded(server: Server, id: string): Promise<boolean> {
    const [row] = await server.query<{ state: string }>('select state from blobs where id = $1', [id]);
    return row?.state === 'uploaded';
  }

  it('answers 503 and writes nothing while the database is down; API and worker recover by themselves', async ({
    proxied: server,
    databaseProxy: proxy,
    s3,
  }) => {
    const first = makeBlob({ size: 3000 });
    expect((await postBlobs(server, partsFor([first]))).body.counts.stored).toBe(1);
    await waitFor('the first blob uploaded', () => uploaded(server, first.item.id));

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
    await waitFor('the second blob uploaded by the recovered worker', () => uploaded(server, second.item.id));
    const store = new S3ObjectStore(s3.storeOptions());
    try {
      expect(sha256Hex((await store.get(blobObjectKey(second.item.sha256)))!)).toBe(second.item.sha256);
    } finally {
      await store.close();
    }
  });
});

import { blobObjectKey, type ItemStatusResponse } from '@sluice/contracts';
import { Registry } from 'prom-client';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { registerBlobMetrics } from '../src/worker/blob-metrics.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { blobStates, makeBlob, partsFor, postBlobs, rowCounts, sha256Hex, waitFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';
import { startS3BlackHole } from './support/s3-black-hole.js';

describe('blob worker when object storage is down', () => {
  it('keeps blobs pending and retrying while the store is down, then uploads them all once it returns', async ({
    server,
    s3,
  }) => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 3000 }));
    expect((await postBlobs(server, partsFor(blobs))).body.counts.stored).toBe(5);
    await s3.stop();

    const store = new S3ObjectStore(s3.storeOptions({ connectionTimeoutMs: 500 }));
    const worker = new BlobWorker({
      db: server.app.db,
      objectStore: store,
      pollIntervalMs: 20,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      maxAttempts: 1000,
    });
    worker.start();
    try {
      const ids = blobs.map((blob) => blob.item.id);
      await waitFor('three failed attempts per blob', async () => {
        const rows = await server.query<{ attempts: number }>(
          'select attempts from blobs where id = any($1)',
          [ids],
        );
        return rows.every((row) => row.attempts >= 3);
      });
      const rows = await server.query<{ state: string; last_error: string | null }>(
        'select state, last_error from blobs where id = any($1)',
        [ids],
      );
      for (const row of rows) {
        expect(['pending', 'uploading']).toContain(row.state);
        expect(row.last_error).toBe('the object store could not be reached');
      }
      expect((await rowCounts(server)).staged).toBe(5);
      const status = await fetch(`${server.url}/v1/items/${ids[0]}`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      const body = (await status.json()) as ItemStatusResponse;
      expect(body.blob?.attempts).toBeGreaterThanOrEqual(3);

      await s3.start();
      await waitFor('every blob uploaded', async () => (await blobStates(server)).uploaded === 5);
      for (const blob of blobs) {
        expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
      }
      expect((await rowCounts(server)).staged).toBe(0);
      const cleared = await server.query<{ last_error: string | null }>(
        'select last_error from blobs where id = any($1)',
        [ids],
      );
      expect(cleared.every((row) => row.last_error === null)).toBe(true);
    } finally {
      await worker.stop();
      await store.close();
    }
  });

  it('marks a blob failed with its last error and counts it once the retry budget is spent', async ({
    server,
    s3,
  }) => {
    const blob = makeBlob({ size: 100 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const registry = new Registry();
    const hooks = registerBlobMetrics(registry, server.app.db, server.app.log);
    const store = new S3ObjectStore({
      ...s3.storeOptions(),
      endpoint: 'http://127.0.0.1:9',
      connectionTimeoutMs: 300,
    });
    const worker = new BlobWorker({
      db: server.app.db,
      objectStore: store,
      pollIntervalMs: 20,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
      maxAttempts: 3,
      hooks,
    });
    worker.start();
    try {
      await waitFor('the blob failed', async () => {
        const [row] = await server.query<{ state: string }>('select state from blobs where id = $1', [
          blob.item.id,
        ]);
        return row?.state === 'failed';
      });
    } finally {
      await worker.stop();
      await store.close();
    }
    const [row] = await server.query<{ attempts: number; last_error: string; staged: number }>(
      `select attempts, last_error, (select count(*)::int from blob_staging where id = $1) as staged
         from blobs where id = $1`,
      [blob.item.id],
    );
    expect(row).toMatchObject({ attempts: 3, staged: 1 });
    expect(row?.last_error).toBe('the object store could not be reached');
    const text = await registry.metrics();
    expect(text).toMatch(/sluice_blob_upload_attempts_total\{outcome="failed"\} 1/);
    expect(text).toMatch(/sluice_blob_upload_attempts_total\{outcome="retry"\} 2/);
    expect(text).toMatch(/sluice_blobs\{state="failed"\} 1/);
  });

  it('hands its leases back when stopped mid-upload, without spending an attempt', async ({ server, s3 }) => {
    const blob = makeBlob({ size: 100 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const hole = await startS3BlackHole();
    const store = new S3ObjectStore({
      ...s3.storeOptions(),
      endpoint: hole.endpoint,
      requestTimeoutMs: 60_000,
    });
    const worker = new BlobWorker({ db: server.app.db, objectStore: store, pollIntervalMs: 20 });
    try {
      worker.start();
      await waitFor('the upload to hang', async () => hole.puts() > 0);
      const [during] = await server.query<{ state: string; lease_owner: string }>(
        'select state, lease_owner from blobs where id = $1',
        [blob.item.id],
      );
      expect(during).toEqual({ state: 'uploading', lease_owner: worker.workerId });
      await worker.stop();
      const [after] = await server.query<{ state: string; lease_owner: string | null; attempts: number }>(
        'select state, lease_owner, attempts from blobs where id = $1',
        [blob.item.id],
      );
      expect(after).toEqual({ state: 'pending', lease_owner: null, attempts: 0 });
    } finally {
      await worker.stop();
      await store.close();
      await hole.close();
    }
  });
});

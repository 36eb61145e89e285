import { blobObjectKey, type ItemStatusResponse } from '@sluice/contracts';
import { createDatabase } from '../src/db/database.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { makeBlob, partsFor, postBlobs, sha256Hex, waitFor } from './blob-support.js';
import { appS3Config, describe, expect, it } from './support/fixtures.js';
import { startS3BlackHole } from './support/s3-black-hole.js';

// The file's server runs with ROLE=all, uploading to the file's S3 server.
it.override('serverOverrides', { scope: 'file' }, ({ s3 }) => ({
  role: 'all',
  worker: { pollIntervalMs: 20 },
  // Each scrape here must see the blobs table as it is now.
  metrics: { cacheMs: 1 },
  s3: appS3Config(s3),
}));

describe('ROLE=all: the app runs the blob worker itself', () => {
  it('moves posted blobs to the configured bucket and reports them in /metrics', async ({ server, s3 }) => {
    const blobs = [makeBlob({ size: 1234 }), makeBlob({ size: 4321 })];
    expect((await postBlobs(server, partsFor(blobs))).body.counts.stored).toBe(2);
    for (const blob of blobs) {
      await waitFor(`${blob.item.id} uploaded`, async () => {
        const response = await fetch(`${server.url}/v1/items/${blob.item.id}`, {
          headers: { authorization: `Bearer ${server.apiKey}` },
        });
        const body = (await response.json()) as ItemStatusResponse;
        return body.blob?.state === 'uploaded';
      });
    }
    const store = new S3ObjectStore(s3.storeOptions());
    try {
      for (const blob of blobs) {
        expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
      }
    } finally {
      await store.close();
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_blobs\{state="uploaded"\} 2/);
    expect(metrics).toMatch(/sluice_blobs\{state="pending"\} 0/);
    expect(metrics).toMatch(/^sluice_blob_backlog_age_seconds 0$/m);
    expect(metrics).toMatch(/sluice_blob_upload_attempts_total\{outcome="uploaded"\} 2/);
    expect(metrics).toMatch(/sluice_items_total\{kind="blob",status="stored"\} 2/);
  });

  it('reports the age of the oldest blob still waiting', async ({ server }) => {
    await server.app.blobWorker?.stop();
    const blob = makeBlob({ size: 10 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await server.query(`update items set received_at = now() - interval '90 seconds' where id = $1`, [
      blob.item.id,
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_blobs\{state="pending"\} 1/);
    const age = Number(/^sluice_blob_backlog_age_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);
  });
});

describe('ROLE=all shutting down', () => {
  it('hands the leases of uploads in flight back when the app closes', async ({ startApp }) => {
    const hole = await startS3BlackHole();
    try {
      const started = await startApp({
        role: 'all',
        worker: { pollIntervalMs: 20 },
        s3: {
          bucket: 'sluice-test',
          endpoint: hole.endpoint,
          region: 'us-east-1',
          accessKeyId: 'S3RVER',
          secretAccessKey: 'S3RVER',
          forcePathStyle: true,
        },
      });
      const blob = makeBlob({ size: 100 });
      expect((await postBlobs(started, partsFor([blob]))).body.counts.stored).toBe(1);
      await waitFor('the upload to hang in the store', async () => hole.puts() > 0);
      await started.close();

      const reopened = await createDatabase(started.config.db);
      try {
        const rows = await reopened.query<{ state: string; lease_owner: string | null; attempts: number }>(
          'select state, lease_owner, attempts from blobs where id = $1',
          [blob.item.id],
        );
        expect(rows).toEqual([{ state: 'pending', lease_owner: null, attempts: 0 }]);
      } finally {
        await reopened.close();
      }
    } finally {
      await hole.close();
    }
  });
});

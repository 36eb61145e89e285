import { blobObjectKey, type ItemStatusResponse } from '@sluice/contracts';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import type { TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { blobStates, makeBlob, partsFor, postBlobs, rowCounts, sha256Hex, waitFor } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

const it = base.extend('store', { scope: 'file' }, async ({ s3 }, { onCleanup }) => {
  const store = new S3ObjectStore(s3.storeOptions());
  onCleanup(() => store.close());
  return store;
});

describe('POST /v1/blobs then the worker', () => {
  async function uploadAll(server: TestServer, store: S3ObjectStore): Promise<void> {
    const worker = new BlobWorker({ db: server.app.db, objectStore: store, pollIntervalMs: 20 });
    worker.start();
    try {
      await waitFor('every blob uploaded', async () => {
        const states = await blobStates(server);
        return Object.keys(states).every((state) => state === 'uploaded');
      });
    } finally {
      await worker.stop();
    }
  }

  it('stages 3 blobs durably, uploads them, and answers a resend with duplicate and no second object', async ({
    server,
    s3,
    store,
  }) => {
    const blobs = [
      makeBlob({ size: 10 }),
      makeBlob({ size: 200_000, meta: { screen: 'home' } }),
      makeBlob({ size: 0 }),
    ];
    const first = await postBlobs(server, partsFor(blobs));
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual(blobs.map((blob) => ({ id: blob.item.id, status: 'stored' })));
    expect(first.body.counts.stored).toBe(3);

    // Stored means staged in the database with the item, before any object storage is involved.
    const staged = await server.query<{ id: string; bytes: Uint8Array; state: string }>(
      `select s.id, s.bytes, b.state from blob_staging s join blobs b using (source, id) join items i using (source, id)
        where i.kind = 'blob' order by s.id`,
    );
    expect(staged).toHaveLength(3);
    for (const row of staged) {
      const blob = blobs.find((candidate) => candidate.item.id === row.id)!;
      expect(sha256Hex(row.bytes)).toBe(blob.item.sha256);
      expect(row.state).toBe('pending');
    }
    expect(s3.requests.filter((request) => request.method === 'PUT')).toHaveLength(0);

    await uploadAll(server, store);
    for (const blob of blobs) {
      const key = blobObjectKey(blob.item.sha256);
      const bytes = await store.get(key);
      expect(bytes).toBeDefined();
      expect(sha256Hex(bytes!)).toBe(blob.item.sha256);
      const status = await fetch(`${server.url}/v1/items/${blob.item.id}`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      const body = (await status.json()) as ItemStatusResponse;
      expect(body.kind).toBe('blob');
      expect(body.blob).toEqual({
        state: 'uploaded',
        size: blob.item.size,
        contentType: blob.item.contentType,
        sha256: blob.item.sha256,
        objectKey: key,
        attempts: 1,
      });
    }
    expect((await rowCounts(server)).staged).toBe(0);
    const putsBefore = s3.requests.filter((request) => request.method === 'PUT').length;
    expect(putsBefore).toBe(3);

    const again = await postBlobs(server, partsFor(blobs));
    expect(again.status).toBe(200);
    expect(again.body.results.map((result) => result.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    await uploadAll(server, store);
    expect(s3.requests.filter((request) => request.method === 'PUT')).toHaveLength(putsBefore);
    expect(await blobStates(server)).toEqual({ uploaded: 3 });
  });

  it('keeps one object for the same bytes under two ids', async ({ server, s3, store }) => {
    const a = makeBlob({ size: 5000 });
    const b = makeBlob({ bytes: a.bytes });
    const sent = await postBlobs(server, partsFor([a, b]));
    expect(sent.body.results.map((result) => result.status)).toEqual(['stored', 'stored']);
    await uploadAll(server, store);
    const key = blobObjectKey(a.item.sha256);
    const keys = new Set(
      s3.requests.filter((request) => request.method === 'PUT').map((request) => request.key),
    );
    expect([...keys].filter((k) => k === key)).toHaveLength(1);
    const rows = await server.query<{ object_key: string; state: string }>(
      'select object_key, state from blobs where id = any($1)',
      [[a.item.id, b.item.id]],
    );
    expect(rows).toEqual([
      { object_key: key, state: 'uploaded' },
      { object_key: key, state: 'uploaded' },
    ]);
    expect(sha256Hex((await store.get(key))!)).toBe(a.item.sha256);
  });

  it('answers conflict for a known id with different bytes and keeps the stored blob unchanged', async ({
    server,
  }) => {
    const original = makeBlob({ size: 64 });
    expect((await postBlobs(server, partsFor([original]))).body.results[0]?.status).toBe('stored');
    const changed = makeBlob({ id: original.item.id, size: 64 });
    const sent = await postBlobs(server, partsFor([changed]));
    expect(sent.body.results[0]).toMatchObject({
      status: 'conflict',
      error: { code: 'IDEMPOTENCY_CONFLICT' },
    });
    const [row] = await server.query<{ sha256: string }>('select sha256 from blobs where id = $1', [
      original.item.id,
    ]);
    expect(row?.sha256).toBe(original.item.sha256);
  });
});

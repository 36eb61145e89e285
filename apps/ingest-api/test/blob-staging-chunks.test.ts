import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobObjectKey } from '@sluice/contracts';
import { STAGING_CHUNK_BYTES } from '../src/ingest/stage-blobs.js';
import { LocalObjectStore } from '../src/object-store/local-object-store.js';
import type { ObjectStore } from '../src/object-store/object-store.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { TEST_ADMIN_KEY, type TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs, sha256Hex } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
const it = base.extend('store', { scope: 'file' }, async ({}, { onCleanup }) => {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
  onCleanup(() => rm(directory, { recursive: true, force: true }));
  return new LocalObjectStore({ directory });
});

async function chunksOf(server: TestServer, id: string): Promise<{ seq: number; bytes: Uint8Array }[]> {
  return server.query<{ seq: number; bytes: Uint8Array }>(
    'select seq, bytes from blob_staging where id = $1 order by seq',
    [id],
  );
}

/** The staged chunks as (seq, size, SHA-256), cheap to compare. */
async function chunkDigests(server: TestServer, id: string) {
  return (await chunksOf(server, id)).map(({ seq, bytes }) => [seq, bytes.byteLength, sha256Hex(bytes)]);
}

async function uploadOnce(server: TestServer, store: ObjectStore): Promise<void> {
  const worker = new BlobWorker({ db: server.app.db, objectStore: store, maxAttempts: 1 });
  try {
    await worker.claimOnce();
    await worker.drain();
  } finally {
    await worker.stop();
  }
}

async function blobRow(server: TestServer, id: string) {
  const [row] = await server.query<{ state: string; last_error: string | null }>(
    'select state, last_error from blobs where id = $1',
    [id],
  );
  return row;
}

describe('blob bytes are staged in bounded chunks', () => {
  it('stages a blob larger than a chunk as several ordered chunks and uploads it intact', async ({
    server,
    store,
  }) => {
    const blob = makeBlob({ size: STAGING_CHUNK_BYTES * 2 + STAGING_CHUNK_BYTES / 2 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);

    const chunks = await chunksOf(server, blob.item.id);
    expect(chunks.map((chunk) => chunk.seq)).toEqual([0, 1, 2]);
    expect(chunks.every((chunk) => chunk.bytes.byteLength <= STAGING_CHUNK_BYTES)).toBe(true);
    expect(sha256Hex(Buffer.concat(chunks.map((chunk) => chunk.bytes)))).toBe(blob.item.sha256);

    await uploadOnce(server, store);
    expect(await blobRow(server, blob.item.id)).toEqual({ state: 'uploaded', last_error: null });
    expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
    expect(await chunksOf(server, blob.item.id)).toEqual([]);
  });

  it('serves a chunked staged blob whole to the admin API before it is uploaded', async ({ server }) => {
    const blob = makeBlob({ size: STAGING_CHUNK_BYTES * 2 + 3 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const response = await fetch(`${server.url}/admin/v1/items/${server.source}/${blob.item.id}/bytes`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(blob.bytes.length));
    expect(sha256Hex(Buffer.from(await response.arrayBuffer()))).toBe(blob.item.sha256);
  });

  it('answers the admin API with a server error, not as bad input, for a staged blob whose bytes are damaged', async ({
    server,
  }) => {
    const blob = makeBlob({ size: 1000 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await server.query("update blob_staging set bytes = decode('00', 'hex') || bytes where id = $1", [
      blob.item.id,
    ]);
    const response = await fetch(`${server.url}/admin/v1/items/${server.source}/${blob.item.id}/bytes`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: 'INTERNAL' } });
  });

  it('streams a chunked blob to an S3-compatible store intact', async ({ server, s3 }) => {
    const store = new S3ObjectStore(s3.storeOptions());
    try {
      const blob = makeBlob({ size: STAGING_CHUNK_BYTES * 3 + 1 });
      expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
      await uploadOnce(server, store);
      expect(await blobRow(server, blob.item.id)).toEqual({ state: 'uploaded', last_error: null });
      expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
    } finally {
      await store.close();
    }
  });

  it('stages an empty blob as one empty chunk and uploads an empty object', async ({ server, store }) => {
    const blob = makeBlob({ bytes: new Uint8Array() });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    expect((await chunksOf(server, blob.item.id)).map((chunk) => chunk.bytes.byteLength)).toEqual([0]);
    await uploadOnce(server, store);
    expect((await blobRow(server, blob.item.id))?.state).toBe('uploaded');
    expect(await store.head(blobObjectKey(blob.item.sha256))).toEqual({ size: 0 });
  });

  it('uploads bytes staged whole in one row, as blobs staged before chunking were', async ({
    server,
    store,
  }) => {
    const blob = makeBlob({ size: STAGING_CHUNK_BYTES + 5 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await server.query('delete from blob_staging where id = $1', [blob.item.id]);
    await server.query(
      `insert into blob_staging (source, id, seq, bytes) select source, id, 0, $2 from blobs where id = $1`,
      [blob.item.id, blob.bytes],
    );
    await uploadOnce(server, store);
    expect((await blobRow(server, blob.item.id))?.state).toBe('uploaded');
    expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
  });

  const damages = [
    {
      name: 'a chunk whose bytes changed',
      damage: "update blob_staging set bytes = decode('00', 'hex') || bytes where id = $1 and seq = 1",
      error: /no longer match/,
    },
    {
      name: 'a chunk that is gone',
      damage: 'delete from blob_staging where id = $1 and seq = 1',
      error: /missing/,
    },
    { name: 'every chunk gone', damage: 'delete from blob_staging where id = $1', error: /missing/ },
  ];
  for (const { name, damage, error } of damages) {
    it(`refuses to upload a blob with ${name}, writes no object and keeps what is staged`, async ({
      server,
      store,
    }) => {
      const blob = makeBlob({ size: STAGING_CHUNK_BYTES * 3 });
      expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
      await server.query(damage, [blob.item.id]);
      const left = await chunkDigests(server, blob.item.id);

      await uploadOnce(server, store);
      const row = await blobRow(server, blob.item.id);
      expect(row?.state).toBe('failed');
      expect(row?.last_error).toMatch(error);
      expect(await store.head(blobObjectKey(blob.item.sha256))).toBeUndefined();
      expect(await chunkDigests(server, blob.item.id)).toEqual(left);
    });
  }
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobObjectKey } from '@sluice/contracts';
import { LocalObjectStore } from '../src/object-store/local-object-store.js';
import type { TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs, sha256Hex } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
const it = base.extend('store', { scope: 'file' }, async ({}, { onCleanup }) => {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
  onCleanup(() => rm(directory, { recursive: true, force: true }));
  return new LocalObjectStore({ directory });
});

describe('blob leases left behind by a worker that stopped responding', () => {
  /** Leaves a blob as a worker that died mid-upload leaves it: uploading, lease run out. */
  async function abandon(server: TestServer, id: string, attempts: number): Promise<void> {
    await server.query(
      `update blobs set state = 'uploading', lease_owner = 'ghost-worker', attempts = $2,
              lease_until = now() - interval '1 second' where id = $1`,
      [id, attempts],
    );
  }

  it('returns the blob to pending with the reason, and a live worker uploads it', async ({
    server,
    store,
  }) => {
    const blob = makeBlob({ size: 2048 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await abandon(server, blob.item.id, 1);
    const worker = new BlobWorker({ db: server.app.db, objectStore: store, maxAttempts: 5 });
    try {
      await worker.claimOnce();
      await worker.drain();
    } finally {
      await worker.stop();
    }
    const [row] = await server.query<{ state: string; attempts: number; lease_owner: string | null }>(
      'select state, attempts, lease_owner from blobs where id = $1',
      [blob.item.id],
    );
    expect(row).toEqual({ state: 'uploaded', attempts: 2, lease_owner: null });
    expect(sha256Hex((await store.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
  });

  it('fails the blob, naming the lost worker, when that was its last allowed attempt', async ({
    server,
    store,
  }) => {
    const blob = makeBlob({ size: 16 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await abandon(server, blob.item.id, 3);
    const worker = new BlobWorker({ db: server.app.db, objectStore: store, maxAttempts: 3 });
    try {
      await worker.claimOnce();
      await worker.drain();
    } finally {
      await worker.stop();
    }
    const [row] = await server.query<{ state: string; last_error: string; staged: number }>(
      `select state, last_error, (select count(*)::int from blob_staging where id = $1) as staged
         from blobs where id = $1`,
      [blob.item.id],
    );
    expect(row?.state).toBe('failed');
    expect(row?.last_error).toMatch(/lease expired/);
    expect(row?.staged).toBe(1);
    expect(await store.head(blobObjectKey(blob.item.sha256))).toBeUndefined();
  });

  it('leaves a blob alone while its lease is still valid', async ({ server, store }) => {
    const blob = makeBlob({ size: 16 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await server.query(
      `update blobs set state = 'uploading', lease_owner = 'busy-worker', attempts = 1,
              lease_until = now() + interval '1 minute' where id = $1`,
      [blob.item.id],
    );
    const worker = new BlobWorker({ db: server.app.db, objectStore: store });
    try {
      expect(await worker.claimOnce()).toBe(0);
    } finally {
      await worker.stop();
    }
    const [row] = await server.query<{ state: string; lease_owner: string }>(
      'select state, lease_owner from blobs where id = $1',
      [blob.item.id],
    );
    expect(row).toEqual({ state: 'uploading', lease_owner: 'busy-worker' });
  });
});

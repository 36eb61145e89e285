import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import type { TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
const it = base.extend('store', { scope: 'file' }, async ({}, { onCleanup }) => {
  // Nothing listens on port 9 (discard): every attempt fails at once with connection refused.
  const store = new S3ObjectStore({
    bucket: 'nowhere',
    endpoint: 'http://127.0.0.1:9',
    accessKeyId: 'x',
    secretAccessKey: 'x',
    forcePathStyle: true,
    maxAttempts: 1,
  });
  onCleanup(() => store.close());
  return store;
});

describe('blob retry backoff', () => {
  /** Fails the blob's next attempt (its `attempts`-th) and returns the delay the database scheduled. */
  async function delayAfterAttempt(
    server: TestServer,
    store: S3ObjectStore,
    attempts: number,
  ): Promise<number> {
    const blob = makeBlob({ size: 10 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    await server.query('update blobs set attempts = $2 where id = $1', [blob.item.id, attempts - 1]);
    const worker = new BlobWorker({
      db: server.app.db,
      objectStore: store,
      backoffBaseMs: 1000,
      backoffMaxMs: 20_000,
      maxAttempts: 100,
    });
    try {
      expect(await worker.claimOnce()).toBe(1);
      await worker.drain();
    } finally {
      await worker.stop();
    }
    const [row] = await server.query<{ state: string; attempts: number; delay: number }>(
      `select state, attempts, extract(epoch from next_attempt_at - now())::float8 * 1000 as delay
         from blobs where id = $1`,
      [blob.item.id],
    );
    expect(row).toMatchObject({ state: 'pending', attempts });
    return Number(row?.delay);
  }

  it('doubles the delay per attempt, with ±25 % jitter, up to the maximum', async ({ server, store }) => {
    // Slack for the few milliseconds between the update and the read.
    const within = (delay: number, expected: number) => {
      expect(delay).toBeGreaterThan(expected * 0.75 - 500);
      expect(delay).toBeLessThanOrEqual(expected * 1.25);
    };
    within(await delayAfterAttempt(server, store, 1), 1000);
    within(await delayAfterAttempt(server, store, 3), 4000);
    within(await delayAfterAttempt(server, store, 5), 16_000);
    within(await delayAfterAttempt(server, store, 9), 20_000);
  });
});

import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { blobObjectKey, type ItemStatusResponse } from '@sluice/contracts';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { realPostgresAvailable, type TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { retryAllFailedBlobs, retryFailedBlobs } from '../src/worker/retry-failed-blobs.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_ATTEMPTS,
  retryDelayMs,
} from '../src/worker/retry-schedule.js';
import { makeBlob, partsFor, postBlobs, sha256Hex, waitFor } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const realPg = await realPostgresAvailable();

/** A store on the file's S3 server, and one that every attempt fails to reach. */
const it = base.extend('stores', { scope: 'file' }, async ({ s3 }, { onCleanup }) => {
  const good = new S3ObjectStore(s3.storeOptions());
  // Nothing listens on port 9: every attempt fails at once with connection refused.
  const down = new S3ObjectStore({ ...s3.storeOptions(), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
  onCleanup(async () => {
    await good.close();
    await down.close();
  });
  return { good, down };
});

describe('failed blobs are recoverable', () => {
  /** Stores a blob and runs a worker against the unreachable store until the blob is `failed`. */
  async function failedBlob(server: TestServer, down: S3ObjectStore, maxAttempts = 2) {
    const blob = makeBlob({ size: 5000 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const worker = new BlobWorker({
      db: server.app.db,
      objectStore: down,
      pollIntervalMs: 10,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      maxAttempts,
    });
    worker.start();
    try {
      await waitFor(
        'the blob to fail',
        async () => (await blobRow(server, blob.item.id))?.state === 'failed',
      );
    } finally {
      await worker.stop();
    }
    return blob;
  }

  async function blobRow(server: TestServer, id: string) {
    const [row] = await server.query<{
      state: string;
      attempts: number;
      last_error: string | null;
      staged: number;
    }>(
      `select state, attempts, last_error, (select count(*)::int from blob_staging s where s.id = b.id) as staged
         from blobs b where id = $1`,
      [id],
    );
    return row;
  }

  async function uploadAll(server: TestServer, good: S3ObjectStore): Promise<void> {
    const worker = new BlobWorker({ db: server.app.db, objectStore: good, pollIntervalMs: 10 });
    worker.start();
    try {
      await waitFor('no blob pending', async () => {
        const [row] = await server.query<{ n: number }>(
          `select count(*)::int as n from blobs where state in ('pending', 'uploading')`,
        );
        return row?.n === 0;
      });
    } finally {
      await worker.stop();
    }
  }

  it('keeps the staged bytes of a failed blob; retrying it resets attempts and the worker uploads it', async ({
    server,
    stores: { good, down },
  }) => {
    const blob = await failedBlob(server, down);
    expect(await blobRow(server, blob.item.id)).toMatchObject({ state: 'failed', attempts: 2, staged: 1 });

    expect(await retryFailedBlobs(server.app.db, { ids: [blob.item.id, 'no-such-blob'] })).toEqual([
      { source: server.source, id: blob.item.id },
    ]);
    expect(await blobRow(server, blob.item.id)).toMatchObject({ state: 'pending', attempts: 0, staged: 1 });

    await uploadAll(server, good);
    expect(await blobRow(server, blob.item.id)).toMatchObject({
      state: 'uploaded',
      staged: 0,
      last_error: null,
    });
    const stored = await good.get(blobObjectKey(blob.item.sha256));
    expect(stored).toBeDefined();
    expect(sha256Hex(stored!)).toBe(blob.item.sha256);
  });

  it('retries every failed blob with all, a bounded batch at a time, and leaves blobs in other states alone', async ({
    server,
    stores: { good, down },
  }) => {
    const first = await failedBlob(server, down);
    const second = await failedBlob(server, down);
    const pending = makeBlob({ size: 100 });
    expect((await postBlobs(server, partsFor([pending]))).body.counts.stored).toBe(1);
    const third = await failedBlob(server, down);
    const batches: string[][] = [];
    const count = await retryAllFailedBlobs(
      server.app.db,
      (batch) => batches.push(batch.map((blob) => blob.id)),
      2,
    );
    // Failed blobs of earlier tests in this file come along.
    expect(count).toBe(batches.flat().length);
    expect(batches.every((batch) => batch.length <= 2)).toBe(true);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.flat()).toEqual(expect.arrayContaining([first.item.id, second.item.id, third.item.id]));
    expect(await retryAllFailedBlobs(server.app.db, () => {}, 2)).toBe(0);
    await uploadAll(server, good);
    for (const blob of [first, second, third, pending]) {
      expect(sha256Hex((await good.get(blobObjectKey(blob.item.sha256)))!)).toBe(blob.item.sha256);
    }
  });

  it('shows clients a lastError without hostnames, addresses or pids', async ({
    server,
    stores: { down },
  }) => {
    const failed = await failedBlob(server, down, 1);
    // A blob whose worker died mid-upload: its lease names the worker's host and pid.
    const orphan = makeBlob({ size: 100 });
    expect((await postBlobs(server, partsFor([orphan]))).body.counts.stored).toBe(1);
    await server.query(
      `update blobs set state = 'uploading', attempts = 1, lease_owner = $2,
              lease_until = now() - interval '1 second' where id = $1`,
      [orphan.item.id, `${hostname()}:${process.pid}:dead`],
    );
    const sweeper = new BlobWorker({ db: server.app.db, objectStore: down, maxAttempts: 1 });
    await sweeper.claimOnce();
    await sweeper.stop();

    for (const id of [failed.item.id, orphan.item.id]) {
      const response = await fetch(`${server.url}/v1/items/${id}`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      const body = (await response.json()) as ItemStatusResponse;
      expect(body.blob?.state).toBe('failed');
      const lastError = body.blob?.lastError ?? '';
      expect(lastError.length).toBeGreaterThan(0);
      expect(lastError).not.toContain(hostname());
      expect(lastError).not.toContain(String(process.pid));
      expect(lastError).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED/);
    }
  });

  it.skipIf(!realPg)(
    'blobs:retry brings failed blobs back from the command line, beside a running server',
    async ({ server, stores: { down } }) => {
      const blob = await failedBlob(server, down);
      const run = (args: string[]) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/blobs-retry.ts', ...args], {
          cwd: packageDir,
          env: {
            PATH: process.env.PATH ?? '',
            DATABASE_URL: server.db.url ?? '',
            DATA_DIR: server.db.dataDir,
          },
        });
      const { stdout } = await run([blob.item.id]);
      expect(stdout).toContain(blob.item.id);
      expect(await blobRow(server, blob.item.id)).toMatchObject({ state: 'pending', attempts: 0, staged: 1 });
      const usage = await run([]).catch((error: { code: number; stderr: string }) => error);
      expect(usage).toMatchObject({ code: 2 });
    },
  );
});

describe('the default retry schedule', () => {
  it('spreads the attempts over at least 24 hours even with the shortest jitter', () => {
    let shortest = 0;
    let longest = 0;
    // The delay after attempt n (1-based) comes before attempt n + 1; the last attempt has none.
    for (let attempt = 1; attempt < DEFAULT_MAX_ATTEMPTS; attempt += 1) {
      const options = { baseMs: DEFAULT_BACKOFF_BASE_MS, maxMs: DEFAULT_BACKOFF_MAX_MS };
      shortest += retryDelayMs(attempt, options, () => 0);
      longest += retryDelayMs(attempt, options, () => 0.999_999);
    }
    const hours = 3_600_000;
    expect(shortest).toBeGreaterThanOrEqual(24 * hours);
    // A one-hour outage costs at most a few attempts: no single delay exceeds the cap plus jitter.
    expect(
      retryDelayMs(
        DEFAULT_MAX_ATTEMPTS,
        { baseMs: DEFAULT_BACKOFF_BASE_MS, maxMs: DEFAULT_BACKOFF_MAX_MS },
        () => 0.999_999,
      ),
    ).toBeLessThanOrEqual(1.25 * DEFAULT_BACKOFF_MAX_MS);
    expect(longest).toBeGreaterThan(shortest);
  });

  it('doubles from the base and stops at the cap, within ±25 %', () => {
    const options = { baseMs: 1000, maxMs: 20_000 };
    expect(retryDelayMs(1, options, () => 0.5)).toBe(1000);
    expect(retryDelayMs(3, options, () => 0.5)).toBe(4000);
    expect(retryDelayMs(3, options, () => 0)).toBe(3000);
    expect(retryDelayMs(9, options, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(500, options, () => 0.5)).toBe(20_000);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { blobObjectKey } from '@sluice/contracts';
import { createDatabase, type Database } from '../src/db/database.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { realPostgresAvailable } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs, rowCounts, sha256Hex, waitFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';
import { startS3BlackHole } from './support/s3-black-hole.js';
import type { S3TestServer } from './support/s3-server.js';

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn(
    '!!! worker-crash.test.ts SKIPPED: several worker processes need a real PostgreSQL (TEST_DATABASE_URL).',
  );
}

function putsPerKey(s3: S3TestServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of s3.requests) {
    if (request.method === 'PUT' && request.status === 200)
      counts.set(request.key, (counts.get(request.key) ?? 0) + 1);
  }
  return counts;
}

describe('blob workers crashing and racing (real PostgreSQL)', () => {
  it.skipIf(!realPg)(
    'finishes the blobs of a worker killed mid-upload once its lease expires',
    async ({ server, s3 }) => {
      const blobs = Array.from({ length: 4 }, () => makeBlob({ size: 50_000 }));
      expect((await postBlobs(server, partsFor(blobs))).body.counts.stored).toBe(4);
      const ids = blobs.map((blob) => blob.item.id);
      const hole = await startS3BlackHole();
      let child: ChildProcess | undefined;
      const store = new S3ObjectStore(s3.storeOptions());
      const survivor = new BlobWorker({ db: server.app.db, objectStore: store, pollIntervalMs: 20 });
      try {
        child = spawn(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(new URL('./worker-crash-child.ts', import.meta.url))],
          {
            env: {
              ...process.env,
              CHILD_DATABASE_URL: server.config.db.url,
              CHILD_S3_ENDPOINT: hole.endpoint,
              CHILD_WORKER_ID: 'doomed-worker',
              CHILD_LEASE_MS: '1500',
            },
            stdio: ['ignore', 'inherit', 'inherit'],
          },
        );
        await waitFor('the doomed worker to be mid-upload of all 4 blobs', async () => hole.puts() >= 4);
        const held = await server.query<{ state: string; lease_owner: string }>(
          'select state, lease_owner from blobs where id = any($1)',
          [ids],
        );
        expect(held).toEqual(ids.map(() => ({ state: 'uploading', lease_owner: 'doomed-worker' })));
        child.kill('SIGKILL');
        await once(child, 'exit');

        survivor.start();
        await waitFor('every blob uploaded by the survivor', async () => {
          const rows = await server.query<{ state: string }>('select state from blobs where id = any($1)', [
            ids,
          ]);
          return rows.every((row) => row.state === 'uploaded');
        });
        const rows = await server.query<{ attempts: number; lease_owner: string | null }>(
          'select attempts, lease_owner from blobs where id = any($1)',
          [ids],
        );
        expect(rows).toEqual(ids.map(() => ({ attempts: 2, lease_owner: null })));
        for (const blob of blobs) {
          const key = blobObjectKey(blob.item.sha256);
          expect(sha256Hex((await store.get(key))!)).toBe(blob.item.sha256);
          expect(putsPerKey(s3).get(key)).toBe(1);
        }
        expect((await rowCounts(server)).staged).toBe(0);
      } finally {
        if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await survivor.stop();
        await store.close();
        await hole.close();
      }
    },
  );

  it.skipIf(!realPg)(
    'never lets two workers upload the same blob, each uploaded exactly once',
    async ({ server, s3 }) => {
      const blobs = Array.from({ length: 40 }, () => makeBlob({ size: 20_000 }));
      for (let start = 0; start < blobs.length; start += 10) {
        expect((await postBlobs(server, partsFor(blobs.slice(start, start + 10)))).body.counts.stored).toBe(
          10,
        );
      }
      const ids = blobs.map((blob) => blob.item.id);
      const putsBefore = new Map(putsPerKey(s3));
      const databases: Database[] = [];
      const stores: S3ObjectStore[] = [];
      const workers: BlobWorker[] = [];
      try {
        for (const name of ['worker-a', 'worker-b']) {
          const db = await createDatabase(server.config.db);
          const store = new S3ObjectStore(s3.storeOptions());
          databases.push(db);
          stores.push(store);
          workers.push(
            new BlobWorker({ db, objectStore: store, workerId: name, concurrency: 4, pollIntervalMs: 10 }),
          );
        }
        for (const worker of workers) worker.start();
        await waitFor('all 40 blobs uploaded', async () => {
          const rows = await server.query<{ state: string }>('select state from blobs where id = any($1)', [
            ids,
          ]);
          return rows.every((row) => row.state === 'uploaded');
        });
      } finally {
        for (const worker of workers) await worker.stop();
        for (const store of stores) await store.close();
        for (const db of databases) await db.close();
      }
      const after = putsPerKey(s3);
      for (const blob of blobs) {
        const key = blobObjectKey(blob.item.sha256);
        expect((after.get(key) ?? 0) - (putsBefore.get(key) ?? 0)).toBe(1);
      }
      expect(s3.maxConcurrentPutsPerKey()).toBe(1);
      const attempts = await server.query<{ attempts: number }>(
        'select attempts from blobs where id = any($1)',
        [ids],
      );
      expect(attempts.every((row) => row.attempts === 1)).toBe(true);
    },
  );
});

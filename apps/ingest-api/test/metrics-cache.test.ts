import postgres from 'postgres';
import { realPostgresAvailable } from '../src/testing.js';
import { makeBlob, partsFor, postBlobs, waitFor } from './blob-support.js';
import { test as base, describe, expect } from './support/fixtures.js';

const CACHE_MS = 1_500;

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED metrics-cache: holding a table lock from outside needs a real PostgreSQL');

/** A connection from outside the app to the server's database, to hold locks and read `pg_locks`. */
const it = base.extend('outside', { scope: 'file' }, async ({ server }, { onCleanup }) => {
  const outside = postgres(server.db.url ?? '', { max: 2, onnotice: () => {} });
  onCleanup(() => outside.end({ timeout: 5 }));
  return outside;
});
it.override({ serverOverrides: { metrics: { cacheMs: CACHE_MS } } });

describe.skipIf(!realPg)(
  '/metrics reads the blobs table at most once per METRICS_CACHE_MS (real PostgreSQL)',
  () => {
    /** Statements of the server waiting for the lock held on `blobs`: each is one reading of it. */
    async function readingsWaiting(outside: postgres.Sql): Promise<number> {
      const [row] = await outside<{ waiting: number }[]>`
      select count(*)::int as waiting from pg_locks
       where relation = 'blobs'::regclass and not granted`;
      return row?.waiting ?? 0;
    }

    it('answers scrapes within the interval from one reading, and issues one reading for concurrent scrapes after it', async ({
      server,
      outside,
    }) => {
      const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
      const blob = makeBlob({ size: 100 });
      expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
      expect(await scrape()).toMatch(/sluice_blobs\{state="pending"\} 1/);

      // With the table locked, any reading of it waits; scrapes answered now read none.
      const locker = await outside.reserve();
      try {
        await locker`begin`;
        await locker`lock table blobs in access exclusive mode`;
        const within = await Promise.race([
          Promise.all(Array.from({ length: 20 }, scrape)),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), CACHE_MS)),
        ]);
        expect(within, 'scrapes within the interval waited for the blobs table').toBeDefined();
        for (const text of within ?? []) expect(text).toMatch(/sluice_blobs\{state="pending"\} 1/);
        expect(await readingsWaiting(outside)).toBe(0);

        await new Promise((resolve) => setTimeout(resolve, CACHE_MS));
        const after = Promise.all(Array.from({ length: 20 }, scrape));
        await waitFor('a reading to wait for the lock', async () => (await readingsWaiting(outside)) > 0);
        // Give any further readings the scrapes might issue time to queue behind the first.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await readingsWaiting(outside)).toBe(1);
        await locker`rollback`;
        for (const text of await after) expect(text).toMatch(/sluice_blobs\{state="pending"\} 1/);
      } finally {
        await locker`rollback`.catch(() => {});
        locker.release();
      }
    });
  },
);

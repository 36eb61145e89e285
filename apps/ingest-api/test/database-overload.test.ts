import type { ErrorBody, IngestResponse } from '@sluice/contracts';
import postgres from 'postgres';
import { realPostgresAvailable } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED database-overload: holding a table lock from outside needs a real PostgreSQL');

it.override({ serverOverrides: { db: { poolSize: 1, maxWaiting: 1, acquireTimeoutMs: 10_000 } } });

describe.skipIf(!realPg)('a saturated connection pool (real PostgreSQL)', () => {
  it('answers 503 UNAVAILABLE with Retry-After to requests beyond the waiting room, and serves the rest', async ({
    server,
  }) => {
    // Warm the key cache so the held lock only blocks item writes.
    expect((await postBatch(server, { items: [record('warm')] })).status).toBe(200);
    const locker = postgres(server.db.url ?? '', { max: 1, onnotice: () => {} });
    try {
      const reserved = await locker.reserve();
      await reserved`begin`;
      await reserved`lock table items in exclusive mode`;
      const running = postBatch<IngestResponse>(server, { items: [record('p-1')] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const waiting = postBatch<IngestResponse>(server, { items: [record('p-2')] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await postBatch<ErrorBody>(server, { items: [record('p-3')] });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      await reserved`rollback`;
      reserved.release();
      expect((await running).body.results).toEqual([{ id: 'p-1', status: 'stored' }]);
      expect((await waiting).body.results).toEqual([{ id: 'p-2', status: 'stored' }]);
    } finally {
      await locker.end({ timeout: 5 });
    }
    expect((await storedItems(server)).map((row) => row.id)).toEqual(['p-1', 'p-2', 'warm']);
  });
});

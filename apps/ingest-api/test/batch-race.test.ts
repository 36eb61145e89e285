import type { IngestResponse } from '@sluice/contracts';
import { realPostgresAvailable } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED batch-race: concurrent-insert races need a real PostgreSQL (TEST_DATABASE_URL)');

it.override({ serverOverrides: { rateLimit: { rps: 10_000, burst: 10_000 } } });

describe.skipIf(!realPg)('POST /v1/batch under concurrent retries (real PostgreSQL)', () => {
  it('stores 200 ids exactly once when 50 requests carry them at the same time, in overlapping batches', async ({
    server,
  }) => {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${String(i).padStart(3, '0')}`);
    const batches = Array.from({ length: 50 }, (_, request) => {
      if (request % 2 === 0) {
        // all 200 ids, in an order of their own
        const shift = (request * 37) % ids.length;
        return [...ids.slice(shift), ...ids.slice(0, shift)].reverse();
      }
      // an overlapping window of 120 ids
      const start = (request * 13) % 80;
      return ids.slice(start, start + 120);
    });
    const responses = await Promise.all(
      batches.map((batch) =>
        postBatch<IngestResponse>(server, { items: batch.map((id) => record(id, { id })) }),
      ),
    );

    const statuses = new Map<string, number>();
    for (const response of responses) {
      expect(response.status).toBe(200);
      for (const result of response.body.results)
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].sort()).toEqual(['duplicate', 'stored']);
    expect(statuses.get('stored')).toBe(200);

    const rows = await server.query<{ count: string; distinct: string }>(
      `select count(*)::text as count, count(distinct id)::text as distinct from items where source = 'test'`,
    );
    expect(rows[0]).toEqual({ count: '200', distinct: '200' });
  });
});

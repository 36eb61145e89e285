import type { ErrorBody, IngestResponse } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

// The database refusing a write for want of resources (here a trigger raising PostgreSQL's own disk_full
// and out_of_memory SQLSTATEs, as a full disk makes it do) is not the request's fault.
describe('a database out of disk or memory', () => {
  for (const [condition, sqlstate] of [
    ['disk_full', '53100'],
    ['out_of_memory', '53200'],
  ] as const) {
    it(`answers 503 UNAVAILABLE with Retry-After (${sqlstate}), stores nothing, and stores the retry once it has room again`, async ({
      server,
    }) => {
      await server.query(`
        create or replace function refuse_items() returns trigger language plpgsql as $$
        begin raise exception 'could not extend file: No space left on device' using errcode = '${condition}'; end $$`);
      await server.query(
        'create trigger refuse_items before insert on items for each row execute function refuse_items()',
      );
      const items = [record(`${condition}-1`), record(`${condition}-2`)];
      try {
        const refused = await postBatch<ErrorBody>(server, { items });
        expect(refused.status).toBe(503);
        expect(refused.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect((await storedItems(server)).filter((row) => row.id.startsWith(condition))).toEqual([]);
      } finally {
        await server.query('drop trigger refuse_items on items');
      }
      const retried = await postBatch<IngestResponse>(server, { items });
      expect(retried.status).toBe(200);
      expect(retried.body.counts.stored).toBe(2);
    });
  }
});

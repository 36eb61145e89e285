import type { ErrorBody, IngestResponse } from '@sluice/contracts';
import { realPostgresAvailable } from '../src/testing.js';
import { test as base, describe, expect } from './support/fixtures.js';
import { get, postBatch, record, storedItems } from './support/http.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED database-outage: cutting the database connection needs a real PostgreSQL');

/** The app on the file's database, reached through `databaseProxy`, which a test can take down. */
const it = base.extend('proxied', { scope: 'file' }, ({ databaseProxy, startApp }) =>
  startApp({ db: { url: databaseProxy.url, poolSize: 4 }, logLevel: 'error' }),
);

describe.skipIf(!realPg)('a database outage (real PostgreSQL behind a proxy that goes down)', () => {
  it('answers 503 UNAVAILABLE with Retry-After while the database is down, then recovers by itself with no loss', async ({
    proxied: server,
    databaseProxy: proxy,
  }) => {
    const before = await postBatch(server, { items: [record('o-1', 1)] });
    expect(before.body.results).toEqual([{ id: 'o-1', status: 'stored' }]);

    await proxy.down();
    const batch = { items: [record('o-2', 2), record('o-3', 3), record('o-1', 1)] };
    const during = await postBatch<ErrorBody>(server, batch);
    expect(during.status).toBe(503);
    expect(during.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.stringify(during.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

    const ready = await get<ErrorBody>(server, '/readyz', null);
    expect(ready.status).toBe(503);
    const item = await get<ErrorBody>(server, '/v1/items/o-1');
    expect(item.status).toBe(503);
    expect((await get(server, '/healthz', null)).status).toBe(200);

    await proxy.up();
    let after = await postBatch<IngestResponse>(server, batch);
    for (let attempt = 0; after.status !== 200 && attempt < 50; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await postBatch<IngestResponse>(server, batch);
    }
    expect(after.status).toBe(200);
    // The failed request wrote nothing: its new items are stored now, not duplicates.
    expect(after.body.results.map((r) => r.status)).toEqual(['stored', 'stored', 'duplicate']);
    expect((await storedItems(server)).map((row) => row.id)).toEqual(['o-1', 'o-2', 'o-3']);
    expect((await get(server, '/readyz', null)).status).toBe(200);

    const metrics = await get<string>(server, '/metrics', null);
    expect(metrics.body).toMatch(/sluice_db_errors_total\{reason="unavailable"\} [1-9]/);
  });

  it('loses nothing when the connections are cut while batches are in flight', async ({
    proxied: server,
    databaseProxy: proxy,
  }) => {
    // Two clients send 30 batches of 50 new ids each, resending a batch on 503 as a client does.
    const statuses = new Map<number, number>();
    const send = async (client: number) => {
      for (let n = 0; n < 30; n += 1) {
        const batch = {
          items: Array.from({ length: 50 }, (_, i) => record(`cut-${client}-${n}-${i}`, { n, i })),
        };
        for (let attempt = 0; ; attempt += 1) {
          const response = await postBatch<IngestResponse>(server, batch);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 200) {
            expect(response.body.counts.conflict + response.body.counts.rejected).toBe(0);
            break;
          }
          expect(response.status).toBe(503);
          expect(attempt).toBeLessThan(200);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const load = Promise.all([send(1), send(2)]);
    // Cut once a few batches are in, not after a fixed time: on a fast machine 150 ms was the whole load.
    while ((statuses.get(200) ?? 0) < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    await proxy.down();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.up();
    await load;

    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    const rows = await server.query<{ count: string }>(
      `select count(*)::text as count from items where source = 'test' and id like 'cut-%'`,
    );
    expect(rows[0]?.count).toBe(String(2 * 30 * 50));
  });
});

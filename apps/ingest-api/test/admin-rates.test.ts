import { type Rates, RatesSchema } from '@sluice/contracts';
import { realPostgresAvailable } from '../src/testing.js';
import { makeBlob, partsFor, postBlobs } from './blob-support.js';
import { admin } from './support/admin.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

const realPg = await realPostgresAvailable();

const total = (rates: Rates, source: string, field: 'items' | 'bytes') =>
  (rates.sources.find((series) => series.source === source)?.[field] ?? []).reduce(
    (sum, value) => sum + value,
    0,
  );

describe('admin rates', () => {
  it('counts stored items and bytes per source in per-minute buckets over the last hour, duplicates not', async ({
    server,
  }) => {
    const items = [record('r-1', { n: 1 }), record('r-2', { text: 'héllo' })];
    await postBatch(server, { items });
    await postBatch(server, { items }); // duplicates
    await postBatch(server, { items: [record('r-3', [1, 2, 3])] }, { key: 'other-key' });
    const blob = makeBlob({ size: 4321 });
    await postBlobs(server, partsFor([blob]));

    const answer = await admin(server.url, '/admin/v1/rates');
    expect(answer.status).toBe(200);
    const rates = RatesSchema.parse(answer.body);
    expect(rates.bucketMs).toBe(60_000);
    expect(rates.from % 60_000).toBe(0);
    expect(Date.now() - rates.from).toBeLessThan(3_600_000);
    const bySource = Object.fromEntries(rates.sources.map((series) => [series.source, series]));
    for (const series of rates.sources) {
      expect(series.items).toHaveLength(60);
      expect(series.bytes).toHaveLength(60);
    }
    const sum = (values: number[] | undefined) => (values ?? []).reduce((total, value) => total + value, 0);
    expect(sum(bySource.test?.items)).toBe(3);
    const recordBytes = Buffer.byteLength('{"n":1}') + Buffer.byteLength('{"text":"héllo"}');
    expect(sum(bySource.test?.bytes)).toBe(recordBytes + 4321);
    expect(sum(bySource.other?.items)).toBe(1);
    expect(sum(bySource.other?.bytes)).toBe('[1,2,3]'.length);
    // The counts are in the shared table, where every API process adds its own.
    const rows = await server.query<{ items: string | number }>(
      "select items from item_rates where source = 'test'",
    );
    expect(rows.reduce((total, row) => total + Number(row.items), 0)).toBe(3);

    expect((await admin(server.url, '/admin/v1/rates?window=1')).status).toBe(400);
  });

  it.skipIf(!realPg)(
    'adds up the counts of several API processes storing concurrent batches of several sources',
    async ({ startApp }) => {
      const apps = [await startApp(), await startApp()];
      const keys = ['test-key', 'other-key'];
      await Promise.all(
        apps.flatMap((app, a) =>
          keys.flatMap((key, k) =>
            Array.from({ length: 5 }, async (_, b) => {
              const ids = Array.from({ length: 20 }, (_, i) => `multi-${a}-${k}-${b}-${i}`);
              const answer = await postBatch(app, { items: ids.map((id) => record(id, 1)) }, { key });
              expect(answer.status).toBe(200);
            }),
          ),
        ),
      );
      // The other process's counts are written within a second.
      await expect
        .poll(async () => {
          const latest = RatesSchema.parse((await admin(apps[0]!.url, '/admin/v1/rates')).body);
          return [
            total(latest, 'test', 'items'),
            total(latest, 'other', 'items'),
            total(latest, 'test', 'bytes'),
          ];
        })
        .toEqual([200, 200, 200]);
    },
  );
});

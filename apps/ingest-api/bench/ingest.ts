/**
 * Ingest throughput: 4 concurrent clients POST 500-item batches of ~200-byte records to a real
 * server for BENCH_SECONDS (default 10), then, in the same run, 4 concurrent postgres.js loops
 * insert the same kind of rows straight into a scratch table with a multi-row
 * `INSERT … ON CONFLICT DO NOTHING`, as the ceiling the API is compared against.
 *
 *   pnpm --filter @sluice/ingest-api bench      (TEST_DATABASE_URL picks the PostgreSQL server)
 */
import { reportFigure } from '@sluice/bench-report';
import { type IngestResponse, newItemId, recordHash } from '@sluice/contracts';
import postgres from 'postgres';
import { buildApp } from '../src/app.js';
import { createTestDatabase, testConfig } from '../src/testing.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = 4;
const BATCH = 500;

function makeRecord(n: number) {
  return {
    id: newItemId(),
    type: 'bench.event',
    ts: Date.now(),
    data: { n, session: 'c0a80164-7f3e-4c1b-9d2a', path: '/checkout/step-2', payload: 'x'.repeat(40) },
  };
}

async function runClients(
  work: (client: number) => Promise<number>,
): Promise<{ count: number; seconds: number }> {
  const started = performance.now();
  const deadline = Date.now() + SECONDS * 1000;
  const counts = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      let count = 0;
      while (Date.now() < deadline) count += await work(client);
      return count;
    }),
  );
  return { count: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000 };
}

const db = await createTestDatabase();
console.log(
  db.kind === 'postgres'
    ? `database: PostgreSQL (fresh database on ${new URL(db.url ?? '').host})`
    : 'database: embedded PGlite (no PostgreSQL answered at TEST_DATABASE_URL); the raw postgres.js loop is skipped',
);
const sample = JSON.stringify(makeRecord(0));
console.log(
  `record size: ${Buffer.byteLength(sample)} bytes serialized; ${CLIENTS} clients x ${BATCH}-item batches, ${SECONDS} s each`,
);

let apiRate = 0;
let rawRate: number | undefined;
const app = await buildApp(
  testConfig(db, { rateLimit: { rps: 1_000_000, burst: 1_000_000 }, logLevel: 'error' }),
);
try {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  let counter = 0;
  const api = await runClients(async () => {
    const items = Array.from({ length: BATCH }, () => makeRecord(counter++));
    const response = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
      body: JSON.stringify({ items }),
    });
    if (response.status !== 200)
      throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as IngestResponse).counts.stored;
  });
  const rows = await app.db.query<{ count: string }>('select count(*)::text as count from items');
  apiRate = api.count / api.seconds;
  console.log(
    `API  POST /v1/batch: ${Math.round(api.count / api.seconds)} items/s stored ` +
      `(${api.count} items in ${api.seconds.toFixed(1)} s; ${rows[0]?.count} rows in items)`,
  );
} finally {
  await app.close();
}

if (db.url !== undefined) {
  const sql = postgres(db.url, { max: CLIENTS, onnotice: () => {} });
  try {
    await sql`create table bench_items (like items including all)`;
    let counter = 0;
    const raw = await runClients(async () => {
      const rows = Array.from({ length: BATCH }, () => {
        const item = makeRecord(counter++);
        return {
          source: 'test',
          id: item.id,
          kind: 'record',
          type: item.type,
          ts: item.ts,
          hash: recordHash(item),
          data: item.data,
        };
      });
      const inserted = await sql`
        insert into bench_items ${sql(rows.map((row) => ({ ...row, data: sql.json(row.data) })))}
        on conflict do nothing returning id`;
      return inserted.length;
    });
    rawRate = raw.count / raw.seconds;
    console.log(
      `raw  postgres.js multi-row INSERT … ON CONFLICT DO NOTHING: ${Math.round(raw.count / raw.seconds)} rows/s ` +
        `(${raw.count} rows in ${raw.seconds.toFixed(1)} s, ${CLIENTS} concurrent loops, hashing included)`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
}
await db.drop();
reportFigure({
  figure: `POST /v1/batch, ${CLIENTS} clients × ${BATCH}-item batches`,
  value: apiRate,
  unit: 'items/s',
  ceiling: rawRate,
  ceilingLabel: `raw postgres.js multi-row INSERT … ON CONFLICT DO NOTHING into a copy of items, ${CLIENTS} loops`,
  target: rawRate === undefined ? undefined : { ratioAtLeast: 0.8 },
  note: rawRate === undefined ? 'PGlite: no PostgreSQL answered, so no ceiling' : undefined,
});

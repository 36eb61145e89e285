/**
 * Random-token flood: BENCH_FLOOD_REQUESTS (default 20000) `GET /v1/limits` requests, each with a new
 * random bearer token, over BENCH_FLOOD_CONNECTIONS (default 64) keep-alive connections to a real
 * server on loopback, then 1000 requests with a valid key. The server's database connection runs through
 * a counting proxy, so "database queries" are statements PostgreSQL actually received.
 *
 *   pnpm --filter @sluice/ingest-api exec tsx bench/auth-flood.ts   (needs PostgreSQL at TEST_DATABASE_URL)
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { reportFigure } from '@sluice/bench-report';
import postgres from 'postgres';
import { buildApp } from '../src/app.js';
import { createTestDatabase, testConfig } from '../src/testing.js';
import { startPgQueryCounter } from '../test/support/pg-query-counter.js';

const REQUESTS = Number(process.env.BENCH_FLOOD_REQUESTS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 64);

const db = await createTestDatabase();
if (db.kind !== 'postgres') {
  console.log('auth flood: skipped, it counts queries at the PostgreSQL wire and no PostgreSQL answered');
  await db.drop();
  process.exit(0);
}
const counter = await startPgQueryCounter(db.url ?? '');
// The per-source rate limit would answer the valid-key phase with 429s; this measures authentication only.
const app = await buildApp(
  testConfig(db, {
    db: { url: counter.url },
    logLevel: 'error',
    rateLimit: { rps: 1_000_000, burst: 1_000_000 },
  }),
);
const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
let open = 0;
let maxOpen = 0;
app.server.on('connection', (socket) => {
  open += 1;
  maxOpen = Math.max(maxOpen, open);
  socket.on('close', () => {
    open -= 1;
  });
});
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function get(path: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${key}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(count: number, key: () => string) {
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) {
        next += 1;
        const status = await get('/v1/limits', key());
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return { statuses: Object.fromEntries(statuses), seconds: (performance.now() - started) / 1000 };
}

const monitor = postgres(db.url ?? '', { max: 1, onnotice: () => {} });
const serverConnections = async () =>
  Number(
    (
      await monitor<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
    )[0]?.n,
  );

await run(50, () => 'test-key');
const before = counter.queries();
const flood = await run(REQUESTS, () => randomBytes(32).toString('base64url'));
const floodQueries = counter.queries() - before;
const pgDuring = await serverConnections();
const afterFlood = counter.queries();
const valid = await run(1000, () => 'test-key');
const validQueries = counter.queries() - afterFlood;

console.log(
  `auth flood: ${REQUESTS} random tokens over ${CONNECTIONS} keep-alive connections in ${flood.seconds.toFixed(1)} s ` +
    `(${Math.round(REQUESTS / flood.seconds)} req/s), statuses ${JSON.stringify(flood.statuses)}`,
);
console.log(
  `  database queries during the flood: ${floodQueries} (${(floodQueries / REQUESTS).toFixed(5)} per refused request; ` +
    'only the 5 s key-set refresh)',
);
console.log(
  `  HTTP connections held by the server: at most ${maxOpen}; PostgreSQL connections of the server: ${pgDuring} ` +
    '(pool connections opened so far plus the LISTEN connection)',
);
console.log(
  `  then 1000 valid-key requests in ${valid.seconds.toFixed(1)} s: statuses ${JSON.stringify(valid.statuses)}, ` +
    `database queries ${validQueries}`,
);

reportFigure({
  figure: `random-token flood, ${CONNECTIONS} keep-alive connections (all refused)`,
  value: REQUESTS / flood.seconds,
  unit: 'req/s',
});
reportFigure({
  figure: 'database queries per refused request during the flood',
  value: floodQueries / REQUESTS,
  unit: 'queries',
});
agent.destroy();
await monitor.end({ timeout: 5 });
await app.close();
await counter.close();
await db.drop();

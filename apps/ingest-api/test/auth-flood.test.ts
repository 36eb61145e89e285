import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createTestDatabase, realPostgresAvailable, type TestDatabase, testConfig } from '../src/testing.js';
import { type PgQueryCounter, startPgQueryCounter } from './support/pg-query-counter.js';

const realPg = await realPostgresAvailable();

/** Sends `count` GET /v1/limits requests with `keyFor(i)`, `concurrency` at a time; returns the statuses seen. */
async function send(url: string, count: number, concurrency: number, keyFor: (i: number) => string) {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const response = await fetch(`${url}/v1/limits`, {
          headers: { authorization: `Bearer ${keyFor(i)}` },
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return Object.fromEntries(statuses);
}

describe.skipIf(!realPg)('a flood of random bearer tokens', () => {
  let db: TestDatabase;
  let counter: PgQueryCounter;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    counter = await startPgQueryCounter(db.url ?? '');
    app = await buildApp(testConfig(db, { db: { url: counter.url } }));
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await counter?.close();
    await db?.drop();
  });

  it('costs no database query per request and leaves valid keys working without lookups', async () => {
    expect(await send(url, 5, 1, () => 'test-key')).toEqual({ 200: 5 });
    const started = performance.now();
    const before = counter.queries();
    const flood = 3000;
    expect(await send(url, flood, 50, () => randomBytes(32).toString('base64url'))).toEqual({ 401: flood });
    expect(await send(url, 200, 10, () => 'test-key')).toEqual({ 200: 200 });
    const queries = counter.queries() - before;
    // Only the periodic refresh of the key set (every 5 s) may run meanwhile.
    const refreshes = Math.ceil((performance.now() - started) / 5000);
    expect(queries).toBeLessThanOrEqual(refreshes);
  });
});

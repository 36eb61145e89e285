import { randomBytes } from 'node:crypto';
import { realPostgresAvailable } from '../src/testing.js';
import { test as base, describe, expect, type TestApp } from './support/fixtures.js';
import { startPgQueryCounter } from './support/pg-query-counter.js';

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

/** The app on the file's database, reached through a proxy that counts the queries it sends. */
const it = base.extend('counted', { scope: 'file' }, async ({ database, startApp }, { onCleanup }) => {
  const counter = await startPgQueryCounter(database.url ?? '');
  let app: TestApp | undefined;
  onCleanup(async () => {
    await app?.close();
    await counter.close();
  });
  app = await startApp({ db: { url: counter.url } });
  return { counter, url: app.url };
});

describe.skipIf(!realPg)('a flood of random bearer tokens', () => {
  it('costs no database query per request and leaves valid keys working without lookups', async ({
    counted: { counter, url },
  }) => {
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

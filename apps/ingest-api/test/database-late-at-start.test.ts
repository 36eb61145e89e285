import { realPostgresAvailable } from '../src/testing.js';
import { describe, expect, test as it } from './support/fixtures.js';
import { get } from './support/http.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED database-late-at-start: holding the database back needs a real PostgreSQL');

describe.skipIf(!realPg)('a database that answers late at start (real PostgreSQL behind a proxy)', () => {
  // Fastify gives each plugin 10 s to start by default; the database's own retry budget
  // (DB_CONNECT_RETRY_MS, 60 s) and a long migration must not be cut short by it.
  it('starts once the database answers, even after longer than a plugin start is given by default', async ({
    databaseProxy: proxy,
    startApp,
  }) => {
    await proxy.down();
    const starting = startApp({
      db: { url: proxy.url, poolSize: 2, connectRetryMs: 60_000 },
      logLevel: 'error',
    });
    const early = await Promise.race([
      starting.then(() => 'started'),
      new Promise((r) => setTimeout(r, 11_000, 'waiting')),
    ]);
    expect(early).toBe('waiting');
    await proxy.up();
    const app = await starting;
    expect((await get(app, '/readyz', null)).status).toBe(200);
  }, 60_000);
});

import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { DatabaseUnavailableError } from '../src/errors.js';
import { createTestDatabase, realPostgresAvailable, type TestDatabase, testConfig } from '../src/testing.js';

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn('!!! SKIPPED database-killed-while-connecting: it proxies a real PostgreSQL');
}

/** The ErrorResponse PostgreSQL sends a backend that `pg_terminate_backend` ends (SQLSTATE 57P01). */
function terminatedByAdministrator(): Buffer {
  const fields = Buffer.concat([
    ...[
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '57P01'],
      ['M', 'terminating connection due to administrator command'],
    ].map(([code, text]) => Buffer.from(`${code}${text}\0`)),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.byteLength + 4, 1);
  return Buffer.concat([header, fields]);
}

/**
 * A TCP proxy to PostgreSQL that, once armed, terminates the next connection the moment the driver
 * sends its array-types query (the first statement postgres.js runs on every new connection), exactly
 * as a `pg_terminate_backend` landing then would.
 */
async function startTerminatingProxy(host: string, port: number) {
  const sockets = new Set<Socket>();
  const state = { armed: false, terminated: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      if (state.armed && chunk.includes('typarray')) {
        state.armed = false;
        state.terminated += 1;
        upstream.destroy();
        client.end(terminatedByAdministrator());
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    state,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!realPg)(
  'a connection terminated while postgres.js fetches array types (real PostgreSQL)',
  () => {
    let testDb: TestDatabase;
    let proxy: Awaited<ReturnType<typeof startTerminatingProxy>>;
    let db: Database;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    beforeAll(async () => {
      testDb = await createTestDatabase();
      const target = new URL(testDb.url ?? '');
      proxy = await startTerminatingProxy(target.hostname, Number(target.port || 5432));
      const viaProxy = new URL(target);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const config = testConfig(testDb, { db: { poolSize: 1 } }).db;
      // Migrations (their own short-lived client) pass untouched; the pool's first connection is the target.
      db = await createDatabase({ ...config, url: viaProxy.toString() });
      process.on('unhandledRejection', onUnhandled);
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await db?.close();
      await proxy?.close();
      await testDb?.drop();
    });

    // postgres.js 3.4.9 unpatched drops the promise of that query (porsager/postgres#1192, #1205): its
    // rejection is unhandled, and the whole server process dies. Found by the chaos run (tooling/chaos).
    it('costs at most the query waiting on it (a 503 to retry), never an unhandled rejection', async () => {
      proxy.state.armed = true;
      const first = await db.query<{ ok: number }>('select 1 as ok').catch((error: unknown) => error);
      if (!Array.isArray(first)) expect(first).toBeInstanceOf(DatabaseUnavailableError);
      let answer: { ok: number }[] | undefined;
      for (let attempt = 0; attempt < 5 && answer === undefined; attempt += 1) {
        answer = await db.query<{ ok: number }>('select 1 as ok').catch(() => undefined);
      }
      // A stray rejection surfaces after the microtasks of the failed connection have run.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(proxy.state.terminated).toBe(1);
      expect(unhandled).toEqual([]);
      expect(answer).toEqual([{ ok: 1 }]);
    });
  },
);

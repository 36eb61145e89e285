import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { DatabaseUnavailableError } from '../src/errors.js';
import { createTestDatabase, realPostgresAvailable, type TestDatabase, testConfig } from '../src/testing.js';

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn('!!! SKIPPED database-backend-killed: terminating a server backend needs a real PostgreSQL');
}

describe.skipIf(!realPg)('a database backend killed in the middle of a transaction (real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let db: Database;
  // The fault injector has a connection of its own, outside the pool under test.
  let admin: postgres.Sql;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await createDatabase(testConfig(testDb, { db: { poolSize: 2 } }).db);
    admin = postgres(testDb.url ?? '', { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await db?.close();
    await testDb?.drop();
  });

  // postgres.js 3.4.9 unpatched throws "Cannot read properties of null (reading 'write')" from a
  // setImmediate here, which no caller can catch: the whole server process would die.
  it('fails that transaction as unavailable, never crashing the process, and serves the next one', async () => {
    for (let round = 0; round < 10; round += 1) {
      let kill: Promise<unknown> = Promise.resolve();
      const outcome = db.transaction(async (tx) => {
        const rows = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as { pid: number }[];
        const pid = rows[0]?.pid;
        const timer = setTimeout(
          () => {
            kill = admin`select pg_terminate_backend(${pid ?? null})`.execute();
          },
          30 + round * 5,
        );
        try {
          await tx.execute(sql`select pg_sleep(5)`);
        } finally {
          clearTimeout(timer);
        }
      });
      await expect(outcome).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await kill;
    }
    // Give a stray setImmediate from the dead connections its turn, then recover as a client would:
    // a query that meets a connection still closing is a 503 to retry, and the pool heals by itself.
    await new Promise((resolve) => setImmediate(resolve));
    let answer: { ok: number }[] | undefined;
    for (let attempt = 0; attempt < 5 && answer === undefined; attempt += 1) {
      answer = await db.query<{ ok: number }>('select 1 as ok').catch((error: unknown) => {
        expect(error).toBeInstanceOf(DatabaseUnavailableError);
        return undefined;
      });
    }
    expect(answer).toEqual([{ ok: 1 }]);
  });
});

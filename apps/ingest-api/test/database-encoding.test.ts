import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { realPostgresAvailable, testDatabaseUrl } from '../src/testing.js';
import { startServerProcess } from './support/server-process.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED database-encoding: a database in another encoding needs a real PostgreSQL');

/** Runs `fn` on a connection to the database `name` of the test server (its maintenance database by default). */
async function onDatabase<T>(name: string | undefined, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const url = new URL(testDatabaseUrl());
  if (name !== undefined) url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe.skipIf(!realPg)('a PostgreSQL database not encoded in UTF8 (real PostgreSQL)', () => {
  let name: string | undefined;
  afterEach(async () => {
    if (name !== undefined)
      await onDatabase(undefined, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
    name = undefined;
  });

  it('the server refuses to start on it, saying how to make a UTF8 database, and creates nothing in it', async () => {
    const database = `sluice_test_latin1_${randomBytes(6).toString('hex')}`;
    name = database;
    // C locale: a LATIN1 database cannot take the server's UTF-8 locale.
    await onDatabase(undefined, (sql) =>
      sql.unsafe(
        `create database ${database} encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0`,
      ),
    );
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${database}`;

    const outcome = await startServerProcess({
      DATABASE_URL: url.toString(),
      API_KEYS: 'encoding:encoding-key-1',
      ADMIN_KEY: 'encoding-admin-key-1',
      HOST: '127.0.0.1',
    }).then(
      async (server) => {
        server.child.kill('SIGTERM');
        await server.exited;
        return 'listening';
      },
      (error: Error) => error.message,
    );
    const refusals = outcome
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('not starting'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(refusals, outcome).toHaveLength(1);
    expect(refusals[0]?.level).toBe(60);
    expect(refusals[0]?.msg).toContain(database);
    expect(refusals[0]?.msg).toMatch(/LATIN1/);
    expect(refusals[0]?.msg).toMatch(/ENCODING 'UTF8'/);

    // Refused before migrating: the database is as it was made.
    const tables = await onDatabase(
      database,
      (sql) =>
        sql<{ schema: string; table: string }[]>`
          select table_schema as schema, table_name as table from information_schema.tables
          where table_schema not in ('pg_catalog', 'information_schema')`,
    );
    expect(tables).toEqual([]);
  }, 120_000);
});

import postgres from 'postgres';
import { databaseEnv, runCli } from './support/cli.js';
import { describe, expect, it } from './support/fixtures.js';

// A command that only reads must change nothing: applying migrations from a newer checkout can lock a
// large table for minutes, and a mistyped DATABASE_URL would get Sluice's tables planted in it.
describe('sources:list, a command that only reads', () => {
  it('refuses a PostgreSQL database without every migration, creating nothing; lists once the server migrated it', {
    timeout: 120_000,
  }, async ({ database, startApp }) => {
    if (database.url === undefined) {
      console.warn(
        '!!! SKIPPED: sources:list on PostgreSQL needs a real PostgreSQL server (none answered) !!!',
      );
      return;
    }
    const refused = await runCli('sources-list', [], databaseEnv(database));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/does not hold every migration of this build.*nothing was changed/);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const tables = await sql`
        select table_schema, table_name from information_schema.tables
         where table_schema not in ('pg_catalog', 'information_schema')`;
      expect(tables).toEqual([]);
    } finally {
      await sql.end({ timeout: 5 });
    }

    const app = await startApp();
    await app.close();
    const listed = await runCli('sources-list', [], databaseEnv(database));
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^SOURCE\s+KEY ID\s+ORIGIN\s+STATE\s+CREATED\n/);
    expect(listed.stdout).toMatch(/^test\s/m);
  });
});

import { createSourceKey, revokeKeys } from '../src/auth/source-keys.js';
import { createDatabase, type Database } from '../src/db/database.js';
import { realPostgresAvailable, testConfig } from '../src/testing.js';
import { databaseEnv, runCli } from './support/cli.js';
import { test as base, describe, expect, type TestApp } from './support/fixtures.js';

const realPg = await realPostgresAvailable();

/** Two API instances on one PostgreSQL database; keys are managed from a third connection, as the commands do. */
/** Two instances of the app on the file's database, and the `admin` connection the commands would use. */
const it = base.extend('cluster', { scope: 'file' }, async ({ database, startApp }, { onCleanup }) => {
  const instances: TestApp[] = [];
  for (let i = 0; i < 2; i += 1) instances.push(await startApp());
  const admin: Database = await createDatabase(testConfig(database).db);
  onCleanup(() => admin.close());
  return { instances, admin };
});

describe.skipIf(!realPg)('revocation reaches every instance within a second', () => {
  async function status(url: string, key: string): Promise<number> {
    const response = await fetch(`${url}/v1/limits`, { headers: { authorization: `Bearer ${key}` } });
    return response.status;
  }

  /** Milliseconds until every instance answers `key` with `expected`; fails after 3 s. */
  async function msUntil(instances: readonly TestApp[], key: string, expected: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const statuses = await Promise.all(instances.map(({ url }) => status(url, key)));
      if (statuses.every((value) => value === expected)) return performance.now() - started;
      if (performance.now() - started > 3000) throw new Error(`still ${statuses.join(', ')} after 3 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a key made beside running instances works on both, and stops working on both when revoked', async ({
    cluster: { instances, admin },
  }) => {
    const created = await createSourceKey(admin, 'mobile');
    expect(await msUntil(instances, created.key, 200)).toBeLessThan(1000);
    // Both instances have now cached the key as valid.
    expect(await revokeKeys(admin, 'mobile')).toEqual([{ source: 'mobile', keyId: created.keyId }]);
    expect(await msUntil(instances, created.key, 401)).toBeLessThan(1000);
  });

  it('listens again after its LISTEN connection is killed', async ({ cluster: { instances, admin } }) => {
    const created = await createSourceKey(admin, 'kiosk');
    expect(await msUntil(instances, created.key, 200)).toBeLessThan(1000);
    const killed = await admin.query<{ pid: number }>(
      `select pg_terminate_backend(pid), pid from pg_stat_activity
        where datname = current_database() and query ilike 'listen%'`,
    );
    expect(killed.length).toBe(instances.length);
    const deadline = Date.now() + 5000;
    for (;;) {
      const listening = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'`,
      );
      if (
        listening.length === instances.length &&
        listening.every((row) => !killed.some((k) => k.pid === row.pid))
      )
        break;
      if (Date.now() > deadline) throw new Error('the instances did not listen again');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await revokeKeys(admin, created.keyId);
    expect(await msUntil(instances, created.key, 401)).toBeLessThan(1000);
  });

  it('sources:create, sources:list and sources:revoke work from the command line beside running instances', async ({
    database,
    cluster: { instances },
  }) => {
    const env = databaseEnv(database);
    const created = await runCli('sources-create', ['laptop'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    const keyId = /key id (key_[0-9a-f]{12})/.exec(created.stderr)?.[1];
    expect(keyId).toBeDefined();
    expect(await msUntil(instances, key, 200)).toBeLessThan(1000);

    const listed = await runCli('sources-list', [], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`laptop\\s+${keyId}\\s+cli\\s+active`));
    expect(listed.stdout).not.toContain(key);

    const revoked = await runCli('sources-revoke', [keyId ?? ''], env);
    expect(revoked.code).toBe(0);
    expect(await msUntil(instances, key, 401)).toBeLessThan(1000);
    expect((await runCli('sources-list', [], env)).stdout).toMatch(new RegExp(`${keyId}\\s+cli\\s+revoked`));
    expect((await runCli('sources-revoke', ['laptop'], env)).code).toBe(1);
  }, 90_000); // five command-line processes, each a Node start
});

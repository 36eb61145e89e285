import { sha256Hex } from '@sluice/contracts';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { createSourceKey, listKeys, revokeKeys } from '../src/auth/source-keys.js';
import { ConfigError } from '../src/errors.js';
import { type ConfigOverrides, createTestDatabase, testConfig } from '../src/testing.js';
import { test as base, describe, expect, type TestApp } from './support/fixtures.js';

/**
 * `starts`: the app started on the file's database one at a time, each `start` closing the one before; the
 * last is closed after the test. `accepted` and `acceptedSoon` ask the app started last.
 */
const it = base.extend('starts', async ({ startApp }, { onCleanup }) => {
  let current: TestApp | undefined;
  const stop = async (): Promise<void> => {
    await current?.close();
    current = undefined;
  };
  onCleanup(stop);

  async function start(overrides: ConfigOverrides): Promise<FastifyInstance> {
    await stop();
    current = await startApp(overrides);
    return current.app;
  }

  /** Whether `key` is accepted: `GET /v1/limits` needs a valid key and touches nothing else. */
  async function accepted(key: string): Promise<boolean> {
    const response = await fetch(`${current?.url}/v1/limits`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect([200, 401]).toContain(response.status);
    return response.status === 200;
  }

  /** Whether `key` is accepted within a second: key changes reach the instance by notification. */
  async function acceptedSoon(key: string, expected: boolean): Promise<boolean> {
    const deadline = performance.now() + 1000;
    for (;;) {
      const now = await accepted(key);
      if (now === expected || performance.now() > deadline) return now;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return { start, stop, accepted, acceptedSoon };
});

/** Keys valid after each start are exactly that start's configured keys plus those made with sources:create. */
describe('API keys across starts', () => {
  // Five starts; on embedded PGlite each opens the database anew, which is slow on a loaded machine.
  it('disables keys a previous start configured but this one does not, and keeps sources:create keys', {
    timeout: 120_000,
  }, async ({ starts: { start, accepted, acceptedSoon } }) => {
    const first = await start({ auth: { apiKeys: undefined, host: '127.0.0.1' } });
    expect(await accepted('dev-key')).toBe(true);
    const created = await createSourceKey(first.db, 'mobile');
    expect(created.keyId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(await acceptedSoon(created.key, true)).toBe(true);

    // The case: same data, now on a public address with API_KEYS.
    await start({ auth: { apiKeys: [{ source: 'web', key: 'web-key-123' }], host: '0.0.0.0' } });
    expect(await accepted('dev-key')).toBe(false);
    expect(await accepted('web-key-123')).toBe(true);
    expect(await accepted(created.key)).toBe(true);

    const third = await start({
      auth: { apiKeys: [{ source: 'app', key: 'app-key-456' }], host: '0.0.0.0' },
    });
    expect(await accepted('web-key-123')).toBe(false);
    expect(await accepted('app-key-456')).toBe(true);
    expect(await accepted(created.key)).toBe(true);
    const rows = await third.db.query<{ key_hash: string; origin: string; disabled: boolean }>(
      'select key_hash, origin, disabled from api_keys order by origin, source',
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { key_hash: sha256Hex('dev-key'), origin: 'config', disabled: true },
        { key_hash: sha256Hex('web-key-123'), origin: 'config', disabled: true },
        { key_hash: sha256Hex('app-key-456'), origin: 'config', disabled: false },
        { key_hash: sha256Hex(created.key), origin: 'cli', disabled: false },
      ]),
    );

    // A worker process serves no keys, so it neither grants the development key nor disables any.
    const worker = await start({ auth: { apiKeys: undefined, host: '127.0.0.1' }, role: 'worker' });
    const afterWorker = await worker.db.query<{ key_hash: string; disabled: boolean }>(
      `select key_hash, disabled from api_keys where origin = 'config' order by key_hash`,
    );
    expect(afterWorker).toEqual(
      rows
        .filter((row) => row.origin === 'config')
        .map(({ key_hash, disabled }) => ({ key_hash, disabled }))
        .sort((a, b) => a.key_hash.localeCompare(b.key_hash)),
    );

    // A later loopback start without API_KEYS grants the development key again, and only it.
    await start({ auth: { apiKeys: undefined, host: '127.0.0.1' } });
    expect(await accepted('dev-key')).toBe(true);
    expect(await accepted('app-key-456')).toBe(false);
    expect(await accepted(created.key)).toBe(true);
  });

  it('creates and revokes by source or key id within a second in this process, and lists keys by id only', async ({
    starts: { start, accepted, acceptedSoon },
  }) => {
    const running = await start({ auth: { apiKeys: [{ source: 'web', key: 'web-key-123' }] } });
    const one = await createSourceKey(running.db, 'tablet');
    const two = await createSourceKey(running.db, 'tablet');
    expect(await acceptedSoon(one.key, true)).toBe(true);
    expect(await acceptedSoon(two.key, true)).toBe(true);

    expect(await revokeKeys(running.db, one.keyId)).toEqual([{ source: 'tablet', keyId: one.keyId }]);
    expect(await acceptedSoon(one.key, false)).toBe(false);
    expect(await accepted(two.key)).toBe(true);
    expect(await revokeKeys(running.db, 'tablet')).toEqual([{ source: 'tablet', keyId: two.keyId }]);
    expect(await acceptedSoon(two.key, false)).toBe(false);
    expect(await revokeKeys(running.db, 'tablet')).toEqual([]);

    const listed = await listKeys(running.db);
    expect(
      listed
        .filter((key) => key.source === 'tablet')
        .map((key) => [key.keyId, key.state])
        .sort(),
    ).toEqual(
      [
        [one.keyId, 'revoked'],
        [two.keyId, 'revoked'],
      ].sort(),
    );
    expect(listed.find((key) => key.source === 'web')).toMatchObject({ origin: 'config', state: 'active' });
    expect(JSON.stringify(listed)).not.toContain(one.key);
  });

  it('refuses to start when the configured keys include a revoked one, naming its key id', async ({
    database: db,
    starts: { start, stop },
  }) => {
    const running = await start({ auth: { apiKeys: [{ source: 'web', key: 'leaked-key-1' }] } });
    const leakedId = `key_${sha256Hex('leaked-key-1').slice(0, 12)}`;
    expect(await revokeKeys(running.db, leakedId)).toEqual([{ source: 'web', keyId: leakedId }]);
    await stop();
    const refused = await buildApp(
      testConfig(db, { auth: { apiKeys: [{ source: 'web', key: 'leaked-key-1' }] } }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain(leakedId);
  });

  it('refuses to start when a configured key belongs to another source: a key never moves (its retries would be stored again under the new source)', async ({
    database: db,
    starts: { start, stop, accepted },
  }) => {
    await start({ auth: { apiKeys: [{ source: 'web', key: 'shared-key-1' }] } });
    expect(await accepted('shared-key-1')).toBe(true);
    await stop();
    const refused = await buildApp(
      testConfig(db, { auth: { apiKeys: [{ source: 'mobile', key: 'shared-key-1' }] } }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    const keyId = `key_${sha256Hex('shared-key-1').slice(0, 12)}`;
    expect((refused as Error).message).toContain(`${keyId} is the key of source "web"`);
    expect((refused as Error).message).not.toContain('shared-key-1');
    const again = await start({ auth: { apiKeys: [{ source: 'web', key: 'shared-key-1' }] } });
    const rows = await again.db.query<{ source: string }>('select source from api_keys where key_hash = $1', [
      sha256Hex('shared-key-1'),
    ]);
    expect(rows).toEqual([{ source: 'web' }]);
    expect(await accepted('shared-key-1')).toBe(true);
  });

  it('refuses a non-loopback start without API_KEYS when no key was made with sources:create', async () => {
    const empty = await createTestDatabase();
    try {
      const refused = await buildApp(
        testConfig(empty, { auth: { apiKeys: undefined, host: '0.0.0.0' } }),
      ).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
    } finally {
      await empty.drop();
    }
  });
});

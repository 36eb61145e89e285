import { adminKeyOf, DEV_ADMIN_KEY, grantsDevAdminKey, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { databaseEnv, runCli } from './support/cli.js';
import { describe, expect, it } from './support/fixtures.js';
import { spawnServer } from './support/server-process.js';

describe('ADMIN_KEY', () => {
  it('grants the development admin key only on loopback without ADMIN_KEY', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      const { admin } = loadConfig({ HOST: host });
      expect(grantsDevAdminKey(admin)).toBe(true);
      expect(adminKeyOf(admin)).toBe(DEV_ADMIN_KEY);
    }
    const keyed = loadConfig({ HOST: '127.0.0.1', ADMIN_KEY: 'a-long-admin-secret' });
    expect(grantsDevAdminKey(keyed.admin)).toBe(false);
    expect(adminKeyOf(keyed.admin)).toBe('a-long-admin-secret');
  });

  it('refuses a non-loopback address without ADMIN_KEY, a short key, and a key equal to a source key', () => {
    // The key and blob commands read the same configuration and need no admin key.
    const open = loadConfig({ HOST: '0.0.0.0' });
    expect(() => adminKeyOf(open.admin)).toThrow(/refusing to listen on 0\.0\.0\.0 without ADMIN_KEY/);
    expect(() => loadConfig({ HOST: '0.0.0.0', ADMIN_KEY: 'short' })).toThrow(ConfigError);
    // A key no HTTP client can send as `Bearer <key>` would start and then never match.
    expect(() => loadConfig({ ADMIN_KEY: 'a passphrase with spaces' })).toThrow(/printable ASCII/);
    expect(() => loadConfig({ ADMIN_KEY: 'clé-secrète-très-longue' })).toThrow(/printable ASCII/);
    expect(() =>
      loadConfig({
        HOST: '10.0.0.5',
        ADMIN_KEY: 'same-key-as-source-1',
        API_KEYS: 'web:same-key-as-source-1',
      }),
    ).toThrow(/ADMIN_KEY must differ/);
  });

  it('reads TRUST_PROXY as proxy addresses and CIDR ranges only: "any proxy" or a hop count would let a direct client spoof its address', () => {
    expect(loadConfig({}).http.trustProxy).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.5, fd00::/8' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.5',
      'fd00::/8',
    ]);
    // A prefix too long for its family passed this check and then threw inside Fastify at start.
    for (const value of [
      'true',
      '1',
      'my-balancer',
      '10.0.0.0/8,',
      '10.0.0.0/33',
      '::1/200',
      '10.0.0.1/8/8',
      '10.0.0.0/',
    ])
      expect(() => loadConfig({ TRUST_PROXY: value }), value).toThrow(/TRUST_PROXY/);
  });

  it('stops the server process on 0.0.0.0 without ADMIN_KEY with a one-line reason', async () => {
    const refused = spawnServer({
      HOST: '0.0.0.0',
      API_KEYS: 'web:web-key-123',
      DATA_DIR: '/nonexistent/never',
    });
    expect(await refused.exited).toBe(1);
    const lines = refused.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sluice ingest-api: refusing to listen on 0\.0\.0\.0 without ADMIN_KEY/);
  }, 60_000);

  it('is no concern of the key commands on a non-loopback HOST', async ({ database }) => {
    const env = { ...databaseEnv(database), HOST: '0.0.0.0' };
    const created = await runCli('sources-create', ['admin-config'], env);
    expect(created.code, created.stderr).toBe(0);
    const listed = await runCli('sources-list', [], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^admin-config\s/m);
  }, 60_000);
});

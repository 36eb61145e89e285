import { ADMIN_PATHS, ROUTES } from '@sluice/contracts';
import { DEV_ADMIN_KEY } from '../src/config.js';
import { clientOf } from '../src/plugins/admin-auth.js';
import { TEST_ADMIN_KEY } from '../src/testing.js';
import { admin } from './support/admin.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

it.override({ serverOverrides: { admin: { authFailureBurst: 1000 } } });

/** Every admin route the contract declares, with a concrete path. */
const ADMIN_ROUTES = Object.values(ROUTES)
  .filter((route) => 'auth' in route && route.auth === 'admin')
  .map((route) => ({
    method: route.method,
    path: route.path.replace(':keyId', 'key_000000000000').replace(':source', 'test').replace(':id', 'x'),
    body:
      route.method === 'POST'
        ? route.path === ADMIN_PATHS.sources
          ? { name: 'intruder' }
          : { all: true }
        : undefined,
  }));

describe('admin authentication', () => {
  it('counts failures per IPv4 address and per IPv6 /64, however the address is written', () => {
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.7');
    expect(clientOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('2001:0DB8:0000:0000:ffff::2')).toBe('2001:db8:0:0::/64');
    expect(clientOf('2001:db8:0:0:1:2:3:4%eth0')).toBe('2001:db8:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
  });

  it('answers 401 UNAUTHORIZED on every admin route without the admin key, source keys included', async ({
    server,
  }) => {
    expect(ADMIN_ROUTES).toHaveLength(11);
    for (const route of ADMIN_ROUTES) {
      for (const key of [null, 'not-the-admin-key', server.apiKey, 'other-key', `${TEST_ADMIN_KEY}x`, '']) {
        const answer = await admin(server.url, route.path, { method: route.method, body: route.body, key });
        expect(answer.status, `${route.method} ${route.path} with ${key}`).toBe(401);
        expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED', retryable: false } });
      }
    }
    const sources = await server.query("select name from sources where name = 'intruder'");
    expect(sources).toEqual([]);
  });

  it('is refused by /v1: the admin key is no source key', async ({ server }) => {
    const answer = await postBatch(server, { items: [record('a-1')] }, { key: TEST_ADMIN_KEY });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const limits = await fetch(`${server.url}/v1/limits`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    expect(limits.status).toBe(401);
  });

  it('accepts the development admin key from this machine only, never through a proxy', async ({
    startServer,
  }) => {
    const dev = await startServer({ admin: { key: undefined } });
    const sources = (headers: Record<string, string>) =>
      fetch(`${dev.url}${ADMIN_PATHS.sources}`, {
        headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, ...headers },
      }).then((answer) => answer.status);
    expect(await sources({})).toBe(200);
    expect(await sources({ 'x-forwarded-for': '203.0.113.7' })).toBe(401);
    expect(await sources({ forwarded: 'for=203.0.113.7' })).toBe(401);
    expect(await sources({ via: '1.1 nginx' })).toBe(401);
  });

  it('behind a trusted proxy (TRUST_PROXY) counts failures per forwarded client, so one guesser locks out no one else', async ({
    startServer,
  }) => {
    const proxied = await startServer({
      admin: { authFailureBurst: 3, authFailuresPerSecond: 0.001 },
      http: { trustProxy: ['127.0.0.1'] },
    });
    const from = (client: string, key?: string) =>
      fetch(`${proxied.url}${ADMIN_PATHS.sources}`, {
        headers: { authorization: `Bearer ${key ?? TEST_ADMIN_KEY}`, 'x-forwarded-for': client },
      }).then((answer) => answer.status);
    const guesses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) guesses.push(await from('203.0.113.7', `guess-${attempt}`));
    expect(guesses.slice(3)).toEqual([429, 429]);
    expect(await from('198.51.100.20', 'guess-other')).toBe(401);
    // The holder of the key is never locked out by someone else's failures at the same address.
    expect(await from('203.0.113.7')).toBe(200);
    // A client that is not a trusted proxy cannot name itself: the forwarded address is ignored.
    const direct = await startServer({
      admin: { authFailureBurst: 3, authFailuresPerSecond: 0.001 },
      http: { trustProxy: ['192.0.2.1'] },
    });
    for (let attempt = 0; attempt < 4; attempt++) {
      await fetch(`${direct.url}${ADMIN_PATHS.sources}`, {
        headers: { authorization: `Bearer guess-${attempt}`, 'x-forwarded-for': `203.0.113.${attempt}` },
      });
    }
    const spoofed = await fetch(`${direct.url}${ADMIN_PATHS.sources}`, {
      headers: { authorization: 'Bearer guess-again', 'x-forwarded-for': '198.51.100.99' },
    });
    expect(spoofed.status).toBe(429);
  });

  it('slows guessing: after a burst of failures an address gets 429 with Retry-After, yet the right key gets in', async ({
    startServer,
  }) => {
    const limited = await startServer({ admin: { authFailureBurst: 5, authFailuresPerSecond: 1 } });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      statuses.push((await admin(limited.url, ADMIN_PATHS.sources, { key: `guess-${attempt}` })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    const locked = await admin(limited.url, ADMIN_PATHS.sources, { key: 'guess-more' });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: { code: 'RATE_LIMITED', retryable: true } });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await admin(limited.url, ADMIN_PATHS.sources)).status).toBe(200);
    // Tokens come back with time: a wrong key is then answered 401 again, not 429.
    await expect
      .poll(async () => (await admin(limited.url, ADMIN_PATHS.sources, { key: 'guess-later' })).status, {
        timeout: 5000,
        interval: 250,
      })
      .toBe(401);
  });

  it('counts the first failure after an address had earned all its tokens back', async ({ startServer }) => {
    const limited = await startServer({ admin: { authFailureBurst: 2, authFailuresPerSecond: 1 } });
    const guess = async (key: string) => (await admin(limited.url, ADMIN_PATHS.sources, { key })).status;
    expect(await guess('guess-0')).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect([await guess('guess-1'), await guess('guess-2'), await guess('guess-3')]).toEqual([401, 401, 429]);
  });
});

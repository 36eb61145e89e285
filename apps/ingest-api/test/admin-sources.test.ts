import { CreatedKeySchema, RevokedKeySchema, SourceListSchema } from '@sluice/contracts';
import { admin } from './support/admin.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

describe('admin sources and keys', () => {
  it('lists every source with its key ids, never a key or its hash', async ({ server }) => {
    const answer = await admin(server.url, '/admin/v1/sources');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const list = SourceListSchema.parse(answer.body);
    expect(list.sources.map((source) => source.name)).toEqual(['other', 'test']);
    const test = list.sources.find((source) => source.name === 'test');
    expect(test?.keys).toEqual([
      expect.objectContaining({
        keyId: expect.stringMatching(/^key_[0-9a-f]{12}$/),
        origin: 'config',
        state: 'active',
      }),
    ]);
    expect(JSON.stringify(answer.body)).not.toContain('test-key');
    const [stored] = await server.query<{ key_hash: string }>(
      "select key_hash from api_keys where source = 'test'",
    );
    expect(JSON.stringify(answer.body)).not.toContain(stored?.key_hash.slice(12) ?? 'x');
  });

  it('creates a source with a key that /v1 accepts at once, and a second key for an existing source', async ({
    server,
  }) => {
    const created = await admin(server.url, '/admin/v1/sources', { body: { name: 'cam-7' } });
    expect(created.status).toBe(200);
    const key = CreatedKeySchema.parse(created.body);
    expect(key.source).toBe('cam-7');
    await expect
      .poll(async () => (await postBatch({ ...server, apiKey: key.key }, { items: [record('c1')] })).status)
      .toBe(200);
    const again = CreatedKeySchema.parse(
      (await admin(server.url, '/admin/v1/sources', { body: { name: 'cam-7' } })).body,
    );
    expect(again.keyId).not.toBe(key.keyId);
    const list = SourceListSchema.parse((await admin(server.url, '/admin/v1/sources')).body);
    expect(
      list.sources
        .find((source) => source.name === 'cam-7')
        ?.keys.map((k) => k.keyId)
        .sort(),
    ).toEqual([key.keyId, again.keyId].sort());
  });

  it('revokes one key by id: /v1 refuses it within a second, the other key of the source still works', async ({
    server,
  }) => {
    const first = CreatedKeySchema.parse(
      (await admin(server.url, '/admin/v1/sources', { body: { name: 'door' } })).body,
    );
    const second = CreatedKeySchema.parse(
      (await admin(server.url, '/admin/v1/sources', { body: { name: 'door' } })).body,
    );
    await expect
      .poll(async () => (await postBatch({ ...server, apiKey: first.key }, { items: [record('d1')] })).status)
      .toBe(200);
    const revoked = await admin(server.url, `/admin/v1/keys/${first.keyId}/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    expect(RevokedKeySchema.parse(revoked.body)).toEqual({ keyId: first.keyId, source: 'door' });
    await expect
      .poll(
        async () => (await postBatch({ ...server, apiKey: first.key }, { items: [record('d2')] })).status,
        {
          timeout: 1000,
          interval: 50,
        },
      )
      .toBe(401);
    expect((await postBatch({ ...server, apiKey: second.key }, { items: [record('d3')] })).status).toBe(200);
    const list = SourceListSchema.parse((await admin(server.url, '/admin/v1/sources')).body);
    const keys = list.sources.find((source) => source.name === 'door')?.keys ?? [];
    expect(keys.find((key) => key.keyId === first.keyId)).toMatchObject({
      state: 'revoked',
      revokedAt: expect.any(Number),
    });
    // Revoking again answers the same; the key stays revoked.
    expect((await admin(server.url, `/admin/v1/keys/${first.keyId}/revoke`, { method: 'POST' })).status).toBe(
      200,
    );
  });

  it('answers 404 for an unknown key id and 400 INVALID_REQUEST for a malformed one or a bad body', async ({
    server,
  }) => {
    const unknown = await admin(server.url, '/admin/v1/keys/key_000000000000/revoke', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    for (const bad of ['key_XYZ', 'test', "key_'%3B--", 'key_0000000000001']) {
      const answer = await admin(server.url, `/admin/v1/keys/${bad}/revoke`, { method: 'POST' });
      expect(answer.status, bad).toBe(400);
      expect(answer.body, bad).toMatchObject({ error: { code: 'INVALID_REQUEST', retryable: false } });
    }
    for (const body of [
      {},
      { name: '' },
      { name: 'a b' },
      { name: 'x'.repeat(65) },
      { name: 'ok', extra: 1 },
      [],
    ]) {
      const answer = await admin(server.url, '/admin/v1/sources', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
    const notJson = await fetch(`${server.url}/admin/v1/sources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.config.admin.key}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
  });
});

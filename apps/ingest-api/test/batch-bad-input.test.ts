import { gzipSync } from 'node:zlib';
import {
  type ErrorBody,
  ErrorBodySchema,
  type IngestResponse,
  type JsonValue,
  REQUEST_ERRORS,
  sha256Hex,
} from '@sluice/contracts';
import type { TestServer } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

const KiB = 1024;

// `server` has small limits; the tests at the defaults use `serverAtDefaults`.
it.override({
  serverOverrides: {
    // Small limits keep the oversize bodies small; behaviour is the same at the defaults.
    limits: {
      maxBatchItems: 1000,
      maxBatchBytes: 256 * KiB,
      maxItemDataBytes: 8 * KiB,
      maxBlobsPerRequest: 100,
      maxBlobRequestBytes: 1024 * KiB,
      maxBlobBytes: 512 * KiB,
      maxBlobMetaBytes: 4 * KiB,
    },
  },
});

describe('POST /v1/batch refuses bad input with its documented code and writes nothing', () => {
  async function expectNothingWritten(server: TestServer): Promise<void> {
    expect(await server.query('select source, id from items')).toEqual([]);
  }

  function expectError(response: { status: number; body: unknown }, code: keyof typeof REQUEST_ERRORS): void {
    expect(response.status).toBe(REQUEST_ERRORS[code].status);
    expect((response.body as ErrorBody).error).toMatchObject({
      code,
      retryable: REQUEST_ERRORS[code].retryable,
    });
    expect(typeof (response.body as ErrorBody).error.message).toBe('string');
  }

  it('rejects a body that is not JSON with 400 INVALID_BATCH', async ({ server }) => {
    expectError(await postBatch(server, '{"items": [', {}), 'INVALID_BATCH');
    expectError(await postBatch(server, '', {}), 'INVALID_BATCH');
    await expectNothingWritten(server);
  });

  it('rejects a wrong envelope with 400 INVALID_BATCH', async ({ server }) => {
    expectError(await postBatch(server, [record('e-1')]), 'INVALID_BATCH');
    expectError(await postBatch(server, { records: [record('e-2')] }), 'INVALID_BATCH');
    expectError(await postBatch(server, { items: [record('e-3')], extra: true }), 'INVALID_BATCH');
    expectError(await postBatch(server, { items: record('e-4') }), 'INVALID_BATCH');
    await expectNothingWritten(server);
  });

  it('rejects 0 and 1001 items with 400 INVALID_BATCH', async ({ server }) => {
    expectError(await postBatch(server, { items: [] }), 'INVALID_BATCH');
    const tooMany = Array.from({ length: 1001 }, (_, i) => record(`many-${i}`, i));
    expectError(await postBatch(server, { items: tooMany }), 'INVALID_BATCH');
    await expectNothingWritten(server);
  });

  it('rejects a body over the decoded-size limit with 413 PAYLOAD_TOO_LARGE', async ({ server }) => {
    const big = Array.from({ length: 100 }, (_, i) => record(`big-${i}`, 'x'.repeat(4 * KiB)));
    expectError(await postBatch(server, { items: big }), 'PAYLOAD_TOO_LARGE');
    await expectNothingWritten(server);
  });

  it('rejects only the item whose data is over the per-item limit', async ({ server }) => {
    const response = await postBatch<IngestResponse>(server, {
      items: [record('fat', 'x'.repeat(8 * KiB + 1)), record('thin', 'x')],
    });
    expect(response.status).toBe(200);
    expect(response.body.results.map((r) => [r.id, r.status, r.error?.code])).toEqual([
      ['fat', 'rejected', 'ITEM_TOO_LARGE'],
      ['thin', 'stored', undefined],
    ]);
    expect((await storedItems(server)).map((row) => row.id)).toEqual(['thin']);
    await server.query('delete from items');
  });

  it('rejects bad id characters, bad types and bad timestamps item by item', async ({ server }) => {
    const response = await postBatch<IngestResponse>(server, {
      items: [
        record('has space'),
        record('slash/no'),
        record('x'.repeat(129)),
        record(''),
        { id: 'bad-type', type: 'a\nb', ts: 1, data: 1 },
        { id: 'long-type', type: 't'.repeat(129), ts: 1, data: 1 },
        { id: 'bad-ts', type: 't', ts: 1.5, data: 1 },
        { id: 'no-data', type: 't', ts: 1 },
        { id: 'extra', type: 't', ts: 1, data: 1, more: 1 },
        'not an object',
      ],
    });
    expect(response.status).toBe(200);
    expect(
      response.body.results.every((r) => r.status === 'rejected' && r.error?.code === 'INVALID_ITEM'),
    ).toBe(true);
    expect(response.body.results.map((r) => r.id)).toEqual([
      'has space',
      'slash/no',
      'x'.repeat(128),
      '',
      'bad-type',
      'long-type',
      'bad-ts',
      'no-data',
      'extra',
      '',
    ]);
    await expectNothingWritten(server);
  });

  it('rejects only the items whose data PostgreSQL cannot store (NUL, unpaired surrogates, deep nesting)', async ({
    server,
  }) => {
    let deep: JsonValue = 1;
    for (let level = 0; level < 3000; level++) deep = { a: deep };
    const response = await postBatch<IngestResponse>(server, {
      items: [
        record('nul', 'a\u0000b'),
        record('surrogate', { s: '\ud800' }),
        record('nul-key', { 'k\u0000': 1 }),
        record('deep', deep),
        record('emoji', { s: '\ud83d\ude00 ok' }),
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.results.map((r) => [r.id, r.status, r.error?.code])).toEqual([
      ['nul', 'rejected', 'INVALID_ITEM'],
      ['surrogate', 'rejected', 'INVALID_ITEM'],
      ['nul-key', 'rejected', 'INVALID_ITEM'],
      ['deep', 'rejected', 'INVALID_ITEM'],
      ['emoji', 'stored', undefined],
    ]);
    expect(response.body.results[3]?.error?.message).toMatch(/deeper than 64 levels/);
    expect((await storedItems(server)).map((row) => [row.id, row.data])).toEqual([['emoji', { s: '😀 ok' }]]);
    await server.query('delete from items');
  });

  it('answers a wrong or missing key with 401 UNAUTHORIZED and writes nothing', async ({ server }) => {
    expectError(await postBatch(server, { items: [record('k-1')] }, { key: 'wrong-key' }), 'UNAUTHORIZED');
    expectError(await postBatch(server, { items: [record('k-2')] }, { key: null }), 'UNAUTHORIZED');
    expectError(
      await postBatch(
        server,
        { items: [record('k-3')] },
        { key: null, headers: { authorization: 'Basic dGVzdDp0ZXN0' } },
      ),
      'UNAUTHORIZED',
    );
    await expectNothingWritten(server);
  });

  it('answers a disabled key with 401 UNAUTHORIZED', async ({ server }) => {
    await server.query(`insert into api_keys (key_hash, source, disabled) values ($1, 'test', true)`, [
      sha256Hex('disabled-key'),
    ]);
    expectError(await postBatch(server, { items: [record('d-1')] }, { key: 'disabled-key' }), 'UNAUTHORIZED');
    await expectNothingWritten(server);
  });

  it('rejects a wrong content type with 415 UNSUPPORTED_MEDIA_TYPE', async ({ server }) => {
    expectError(
      await postBatch(server, JSON.stringify({ items: [record('c-1')] }), { contentType: 'text/plain' }),
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await postBatch(server, JSON.stringify({ items: [record('c-2')] }), {
        headers: { 'content-encoding': 'br' },
      }),
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectNothingWritten(server);
  });

  it('refuses a body that is not UTF-8 or declares another charset, and stores the same data sent as UTF-8', async ({
    server,
  }) => {
    const batch = (text: Buffer) =>
      Buffer.concat([
        Buffer.from('{"items":[{"id":"u1","type":"t","ts":1,"data":{"s":"'),
        text,
        Buffer.from('"}}]}'),
      ]);
    const notUtf8 = [
      Buffer.from('caf\xe9', 'latin1'),
      // An overlong `/` and a lone surrogate: decoders that are not strict read both as characters.
      Buffer.from([0x63, 0xc0, 0xaf]),
      Buffer.from([0x63, 0xed, 0xa0, 0x80]),
    ];
    for (const bytes of notUtf8) {
      expectError(await postBatch(server, batch(bytes)), 'INVALID_BATCH');
      expectError(await postBatch(server, batch(bytes), { gzip: true }), 'INVALID_BATCH');
    }
    for (const contentType of [
      'application/json; charset=iso-8859-1',
      'application/json;charset="ISO-8859-1"',
      'application/json; charset=utf-16',
    ]) {
      expectError(
        await postBatch(server, batch(Buffer.from('caf\xe9', 'latin1')), { contentType }),
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectError(
        await postBatch(server, batch(Buffer.from('café')), { contentType }),
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }
    await expectNothingWritten(server);

    const stored = await postBatch<IngestResponse>(server, batch(Buffer.from('café')));
    expect(stored.status).toBe(200);
    expect(stored.body.results).toEqual([{ id: 'u1', status: 'stored' }]);
    for (const contentType of [
      'application/json; charset=utf-8',
      'application/json; Charset="UTF-8"',
      'application/json; charset=utf8',
    ]) {
      const again = await postBatch<IngestResponse>(server, batch(Buffer.from('café')), {
        contentType,
        gzip: true,
      });
      expect(again.status).toBe(200);
      expect(again.body.results).toEqual([{ id: 'u1', status: 'duplicate' }]);
    }
    expect((await storedItems(server)).map((row) => [row.id, row.data])).toEqual([['u1', { s: 'café' }]]);
    await server.query('delete from items');
  });

  it('accepts a gzip body', async ({ server }) => {
    const response = await postBatch<IngestResponse>(
      server,
      { items: [record('gz-1', { z: 1 })] },
      { gzip: true },
    );
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([{ id: 'gz-1', status: 'stored' }]);
    expect((await storedItems(server)).map((row) => [row.id, row.data])).toEqual([['gz-1', { z: 1 }]]);
    await server.query('delete from items');
  });

  it('stops inflating a gzip bomb at the decoded-size limit with 413 and answers corrupt gzip with 400', async ({
    server,
  }) => {
    // 64 MiB of spaces inside valid JSON compresses to ~64 KiB; the limit here is 256 KiB.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"items":['), Buffer.alloc(64 * 1024 * KiB, ' '), Buffer.from(']}')]),
    );
    expect(bomb.length).toBeLessThan(256 * KiB);
    const response = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: 'Bearer test-key',
      },
      body: bomb,
    });
    expectError({ status: response.status, body: await response.json() }, 'PAYLOAD_TOO_LARGE');

    const corrupt = gzipSync(JSON.stringify({ items: [record('cg-1')] })).subarray(0, 20);
    const bad = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: 'Bearer test-key',
      },
      body: corrupt,
    });
    expectError({ status: bad.status, body: await bad.json() }, 'INVALID_BATCH');
    await expectNothingWritten(server);
  });

  it('answers unknown routes with 404 NOT_FOUND in the contract shape', async ({ server }) => {
    const response = await fetch(`${server.url}/v1/nope`, { headers: { authorization: 'Bearer test-key' } });
    expectError({ status: response.status, body: await response.json() }, 'NOT_FOUND');
  });
});

describe('POST /v1/batch with hostile nesting at the default limits', () => {
  function expectError(response: { status: number; body: unknown }, code: keyof typeof REQUEST_ERRORS): void {
    expect(response.status).toBe(REQUEST_ERRORS[code].status);
    expect(ErrorBodySchema.parse(response.body).error.code).toBe(code);
  }

  it('answers JSON nested 100,000 deep with 400 or per-item rejections, never a 5xx', async ({
    serverAtDefaults: server,
  }) => {
    const depth = 100_000;
    const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deepObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    // secure-json-parse walks parsed bodies that mention __proto__ or constructor.
    const deepProto = `${'{"a":'.repeat(depth)}{"__proto__":{"x":1}}${'}'.repeat(depth)}`;
    const deepConstructor = `${'['.repeat(depth)}{"constructor":{"prototype":{}}}${']'.repeat(depth)}`;
    for (const body of [
      deepArray,
      deepObject,
      `{"items":${deepObject}}`,
      `{"items":[],"x":${deepArray}}`,
      `{"items":[{"id":"p","type":"t","ts":1,"data":${deepProto}}]}`,
      `{"items":[{"id":"c","type":"t","ts":1,"data":${deepConstructor}}]}`,
    ]) {
      expectError(await postBatch(server, body), 'INVALID_BATCH');
    }
    for (const [id, data] of [
      ['arr', deepArray],
      ['obj', deepObject],
    ]) {
      const response = await postBatch<IngestResponse>(
        server,
        `{"items":[{"id":"${id}","type":"t","ts":1,"data":${data}},${deepArray},{"id":"ok-${id}","type":"t","ts":1,"data":1}]}`,
      );
      expect(response.status).toBe(200);
      expect(response.body.results.map((r) => [r.id, r.status, r.error?.code])).toEqual([
        [id, 'rejected', 'INVALID_ITEM'],
        ['', 'rejected', 'INVALID_ITEM'],
        [`ok-${id}`, 'stored', undefined],
      ]);
    }
    const gzipped = await postBatch(server, `{"items":[${deepArray}]}`, { gzip: true });
    expect(gzipped.status).toBe(200);
    expect((await storedItems(server)).map((row) => row.id)).toEqual(['ok-arr', 'ok-obj']);
  });
});

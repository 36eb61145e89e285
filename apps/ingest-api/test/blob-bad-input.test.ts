import { gzipSync } from 'node:zlib';
import {
  DEFAULT_LIMITS,
  type ErrorBody,
  ErrorBodySchema,
  type IngestResponse,
  IngestResponseSchema,
  REQUEST_ERRORS,
} from '@sluice/contracts';
import type { TestServer } from '../src/testing.js';
import { makeBlob, multipartBody, type Part, partsFor, postBlobs, rowCounts } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';

const KiB = 1024;

// `server` has small limits; the tests at the defaults use `serverAtDefaults`.
it.override({
  serverOverrides: {
    limits: {
      ...DEFAULT_LIMITS,
      maxBlobsPerRequest: 5,
      maxBlobBytes: 64 * KiB,
      maxBlobRequestBytes: 256 * KiB,
      maxBlobMetaBytes: 256,
    },
  },
});

describe('POST /v1/blobs with bad input', () => {
  async function storedIds(server: TestServer): Promise<string[]> {
    const rows = await server.query<{ id: string }>(
      `select i.id from items i join blobs b using (source, id) join blob_staging s using (source, id) order by i.id`,
    );
    return rows.map((row) => row.id);
  }

  /** Sends a request that must fail as a whole and checks that it wrote nothing. */
  async function expectWholeFailure(
    server: TestServer,
    parts: Part[],
    status: number,
    code: string,
    options = {},
  ) {
    const before = await rowCounts(server);
    const sent = await postBlobs<ErrorBody>(server, parts, options);
    expect(sent.status).toBe(status);
    expect(sent.body.error.code).toBe(code);
    expect(await rowCounts(server)).toEqual(before);
    return sent;
  }

  it('rejects a part bigger than its manifest size with CHECKSUM_MISMATCH and stores the others', async ({
    server,
  }) => {
    const good = makeBlob({ size: 100 });
    const big = makeBlob({ size: 100 });
    const parts = partsFor([good, big]);
    parts[2] = { name: big.item.id, bytes: Buffer.concat([big.bytes, Buffer.from('one more')]) };
    const sent = await postBlobs(server, parts);
    expect(sent.status).toBe(200);
    expect(sent.body.results[0]).toEqual({ id: good.item.id, status: 'stored' });
    expect(sent.body.results[1]).toMatchObject({
      id: big.item.id,
      status: 'rejected',
      error: { code: 'CHECKSUM_MISMATCH' },
    });
    expect(await storedIds(server)).toContain(good.item.id);
    expect(await storedIds(server)).not.toContain(big.item.id);
  });

  it('rejects a part cut short with CHECKSUM_MISMATCH', async ({ server }) => {
    const short = makeBlob({ size: 1000 });
    const parts = partsFor([short]);
    parts[1] = { name: short.item.id, bytes: short.bytes.subarray(0, 999) };
    const sent = await postBlobs(server, parts);
    expect(sent.body.results[0]).toMatchObject({ status: 'rejected', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await storedIds(server)).not.toContain(short.item.id);
  });

  it('rejects bytes whose SHA-256 differs from the manifest with CHECKSUM_MISMATCH', async ({ server }) => {
    const blob = makeBlob({ size: 500 });
    const parts = partsFor([blob]);
    const tampered = Buffer.from(blob.bytes);
    tampered[0] = (tampered[0]! + 1) % 256;
    parts[1] = { name: blob.item.id, bytes: tampered };
    const sent = await postBlobs(server, parts);
    expect(sent.body.results[0]).toMatchObject({ status: 'rejected', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await storedIds(server)).not.toContain(blob.item.id);
  });

  it('rejects a manifest item without a part as MISSING_PART and stores the rest', async ({ server }) => {
    const present = makeBlob();
    const missing = makeBlob();
    const parts = partsFor([present, missing]).slice(0, 2);
    const sent = await postBlobs(server, parts);
    expect(sent.body.results).toEqual([
      { id: present.item.id, status: 'stored' },
      expect.objectContaining({
        id: missing.item.id,
        status: 'rejected',
        error: expect.objectContaining({ code: 'MISSING_PART' }),
      }),
    ]);
    expect(sent.body.counts).toMatchObject({ stored: 1, rejected: 1 });
  });

  it('accepts parts in any order', async ({ server }) => {
    const blobs = [makeBlob(), makeBlob(), makeBlob()];
    const [manifest, ...files] = partsFor(blobs);
    const sent = await postBlobs(server, [manifest!, ...files.reverse()]);
    expect(sent.body.results.map((result) => result.status)).toEqual(['stored', 'stored', 'stored']);
  });

  it('rejects invalid manifest items one by one and still reads the request to its end', async ({
    server,
  }) => {
    const good = makeBlob();
    const badId = makeBlob({ id: 'no spaces allowed' });
    const tooBig = makeBlob({ size: 100 });
    const bigMeta = makeBlob({ meta: { note: 'x'.repeat(300) } });
    const parts = partsFor([badId, good, bigMeta]);
    const manifest = JSON.parse((parts[0] as { value: string }).value) as { items: unknown[] };
    manifest.items.push({ ...tooBig.item, size: 65 * KiB });
    parts[0] = { name: 'manifest', value: JSON.stringify(manifest) };
    const sent = await postBlobs(server, parts);
    expect(sent.status).toBe(200);
    expect(sent.body.results.map((result) => [result.status, result.error?.code])).toEqual([
      ['rejected', 'INVALID_ITEM'],
      ['stored', undefined],
      ['rejected', 'ITEM_TOO_LARGE'],
      ['rejected', 'ITEM_TOO_LARGE'],
    ]);
  });

  it('fails the whole request on a part no manifest item names, writing nothing', async ({ server }) => {
    const blob = makeBlob();
    await expectWholeFailure(
      server,
      [...partsFor([blob]), { name: 'stranger', bytes: Buffer.from('hi') }],
      400,
      'INVALID_BATCH',
    );
    expect(await storedIds(server)).not.toContain(blob.item.id);
  });

  it('fails the whole request on a second part for the same manifest item', async ({ server }) => {
    const blob = makeBlob();
    await expectWholeFailure(
      server,
      [...partsFor([blob]), { name: blob.item.id, bytes: blob.bytes }],
      400,
      'INVALID_BATCH',
    );
  });

  it('fails the whole request without a manifest', async ({ server }) => {
    const blob = makeBlob();
    await expectWholeFailure(server, partsFor([blob]).slice(1), 400, 'INVALID_BATCH');
  });

  it('fails the whole request when the manifest is not the first part', async ({ server }) => {
    const blob = makeBlob();
    const [manifest, file] = partsFor([blob]);
    await expectWholeFailure(server, [file!, manifest!], 400, 'INVALID_BATCH');
  });

  it('fails the whole request on a manifest that is not JSON, has no items, or too many', async ({
    server,
  }) => {
    await expectWholeFailure(server, [{ name: 'manifest', value: '{"items": [' }], 400, 'INVALID_BATCH');
    await expectWholeFailure(server, [{ name: 'manifest', value: '{"items": []}' }], 400, 'INVALID_BATCH');
    await expectWholeFailure(server, [{ name: 'manifest', value: '{"blobs": []}' }], 400, 'INVALID_BATCH');
    const six = Array.from({ length: 6 }, () => makeBlob({ size: 10 }));
    await expectWholeFailure(server, partsFor(six), 400, 'INVALID_BATCH');
  });

  it('fails the whole request on a manifest whose bytes are not UTF-8, as a field or as a file, writing nothing', async ({
    server,
  }) => {
    const blob = makeBlob({ size: 100, meta: { name: 'café' } });
    const manifest = JSON.stringify({ items: [blob.item] });
    const file = { name: blob.item.id, bytes: blob.bytes };
    // 'café' in Latin-1: a lone 0xE9 byte, which decoding would store as U+FFFD.
    const field = await expectWholeFailure(
      server,
      [{ name: 'manifest', value: manifest, encoding: 'latin1' }, file],
      400,
      'INVALID_BATCH',
    );
    expect(field.body.error.message).toContain('not valid UTF-8');
    await expectWholeFailure(
      server,
      [{ name: 'manifest', bytes: Buffer.from(manifest, 'latin1') }, file],
      400,
      'INVALID_BATCH',
    );
    const stored = await postBlobs<IngestResponse>(server, [{ name: 'manifest', value: manifest }, file]);
    expect(stored.status).toBe(200);
    expect(stored.body.results).toEqual([{ id: blob.item.id, status: 'stored' }]);
  });

  it('refuses a request declaring more bytes than the limit with 413, writing nothing', async ({
    server,
  }) => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 60 * KiB }));
    await expectWholeFailure(server, partsFor(blobs), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('stops a streamed request once it passes the limit with 413, writing none of the blobs before the limit', async ({
    server,
  }) => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 60 * KiB }));
    await expectWholeFailure(server, partsFor(blobs), 413, 'PAYLOAD_TOO_LARGE', { chunked: true });
    for (const blob of blobs) expect(await storedIds(server)).not.toContain(blob.item.id);
  });

  it('accepts a streamed request within the limit', async ({ server }) => {
    const blobs = Array.from({ length: 3 }, () => makeBlob({ size: 60 * KiB }));
    const sent = await postBlobs(server, partsFor(blobs), { chunked: true });
    expect(sent.body.counts.stored).toBe(3);
  });

  it('answers 415 to a body that is not multipart and writes nothing', async ({ server }) => {
    const before = await rowCounts(server);
    const response = await fetch(`${server.url}/v1/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [makeBlob().item] }),
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as ErrorBody).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await rowCounts(server)).toEqual(before);
  });

  it('answers 401 to a wrong key and writes nothing', async ({ server }) => {
    const before = await rowCounts(server);
    const sent = await postBlobs<ErrorBody>(server, partsFor([makeBlob()]), {
      headers: { authorization: 'Bearer wrong-key' },
    });
    expect(sent.status).toBe(401);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('answers a repeated id within one manifest against the first', async ({ server }) => {
    const blob = makeBlob();
    const sent = await postBlobs<IngestResponse>(server, [
      { name: 'manifest', value: JSON.stringify({ items: [blob.item, blob.item] }) },
      { name: blob.item.id, bytes: blob.bytes },
      { name: blob.item.id, bytes: blob.bytes },
    ]);
    expect(sent.body.results.map((result) => result.status)).toEqual(['stored', 'duplicate']);
  });
});

/** `{"a":{"a":…1…}}` nested `levels` deep, as JSON text. */
function nestedObjectText(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

// Default limits: the manifest may be ~512 KB, room for JSON nested 100,000 deep.
describe('POST /v1/blobs with hostile values: per-item rejections or a 400, never a 5xx', () => {
  /** Posts a hand-written manifest text with the given file parts. */
  async function postManifest(server: TestServer, manifest: string, files: Part[]) {
    return postBlobs<IngestResponse | ErrorBody>(server, [{ name: 'manifest', value: manifest }, ...files]);
  }

  function expectWhole(sent: { status: number; body: unknown }, code: keyof typeof REQUEST_ERRORS): void {
    expect(sent.status).toBe(REQUEST_ERRORS[code].status);
    expect(ErrorBodySchema.parse(sent.body).error.code).toBe(code);
  }

  it('rejects meta holding NUL, unpaired surrogates or nesting past 64 levels, item by item', async ({
    serverAtDefaults: server,
  }) => {
    const good = makeBlob({ size: 64 });
    const cases = {
      'meta-nul': { note: 'a\u0000b' },
      'meta-nul-key': { 'k\u0000': 'v' },
      'meta-lone-high': { note: 'x\ud800' },
      'meta-lone-low': { note: '\udc00y' },
      'meta-lone-key': { '\udfff': 'v' },
    } as const;
    const hostile = Object.entries(cases).map(([id, meta]) => ({ ...makeBlob({ size: 64, id }), meta }));
    const deep = makeBlob({ size: 64, id: 'meta-deep-3000' });
    // JSON.stringify escapes lone surrogates, so they arrive as `\ud800` escapes that JSON.parse turns back.
    const items = [good.item, ...hostile.map(({ item, meta }) => ({ ...item, meta }))];
    const text = JSON.stringify({ items }).replace(
      /\]\}$/,
      `,${JSON.stringify(deep.item).replace(/\}$/, `,"meta":${nestedObjectText(3000)}}`)}]}`,
    );
    const before = await rowCounts(server);
    const sent = await postManifest(server, text, [
      { name: good.item.id, bytes: good.bytes },
      ...hostile.map(({ item, bytes }) => ({ name: item.id, bytes })),
      { name: deep.item.id, bytes: deep.bytes },
    ]);
    expect(sent.status).toBe(200);
    const body = IngestResponseSchema.parse(sent.body);
    expect(body.results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      [good.item.id, 'stored', undefined],
      ...hostile.map(({ item }) => [item.id, 'rejected', 'INVALID_ITEM']),
      ['meta-deep-3000', 'rejected', 'INVALID_ITEM'],
    ]);
    expect(body.results.at(-1)?.error?.message).toMatch(/deeper than 64 levels/);
    expect(await rowCounts(server)).toEqual({
      items: before.items + 1,
      blobs: before.blobs + 1,
      staged: before.staged + 1,
    });
  });

  it('rejects a contentType that could not be an HTTP header value, item by item', async ({
    serverAtDefaults: server,
  }) => {
    const bad = {
      'ct-nul': 'image/png\u0000',
      'ct-crlf': 'image/png\r\nX-Injected: 1',
      'ct-lf': 'text/plain;\ncharset=utf-8',
      'ct-del': 'image/png;a=\u007f',
      'ct-latin1': 'image/png; name=caf\u00e9',
      'ct-emoji': 'image/\ud83d\ude00',
      'ct-lone-surrogate': 'image/png; x=\ud800',
      'ct-empty': '',
      'ct-long': `application/${'x'.repeat(300)}`,
    };
    const blobs = Object.entries(bad).map(([id, contentType]) => {
      const blob = makeBlob({ size: 32, id });
      return { ...blob, item: { ...blob.item, contentType } };
    });
    const fine = makeBlob({ size: 32, id: 'ct-fine' });
    const params = { ...fine, item: { ...fine.item, contentType: 'text/plain; charset="utf-8"' } };
    const before = await rowCounts(server);
    const sent = await postBlobs<IngestResponse>(server, partsFor([...blobs, params]));
    expect(sent.status).toBe(200);
    expect(sent.body.results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ...blobs.map(({ item }) => [item.id, 'rejected', 'INVALID_ITEM']),
      ['ct-fine', 'stored', undefined],
    ]);
    expect(await rowCounts(server)).toEqual({
      items: before.items + 1,
      blobs: before.blobs + 1,
      staged: before.staged + 1,
    });
    const [row] = await server.query<{ content_type: string }>(
      `select content_type from blobs where id = 'ct-fine'`,
    );
    expect(row?.content_type).toBe('text/plain; charset="utf-8"');
  });

  it('rejects sizes and timestamps beyond safe integers, negative or fractional, item by item', async ({
    serverAtDefaults: server,
  }) => {
    const base = makeBlob({ size: 16 });
    const variants: [string, Record<string, unknown>][] = [
      ['size-2e53', { size: 2 ** 53 }],
      ['size-1e300', { size: 1e300 }],
      ['size-neg', { size: -1 }],
      ['size-frac', { size: 1.5 }],
      ['size-string', { size: '16' }],
      ['ts-2e53', { ts: 2 ** 53 }],
      ['ts-neg', { ts: -1 }],
      ['ts-string', { ts: '2025-01-01' }],
    ];
    const items = variants.map(([id, change]) => ({ ...base.item, id, ...change }));
    // 1e400 is Infinity to JSON.parse: it can only be written by hand.
    const text = JSON.stringify({ items }).replace(
      /\]\}$/,
      `,{"id":"ts-1e400","type":"t","ts":1e400,"contentType":"a/b","size":16,"sha256":"${base.item.sha256}"}]}`,
    );
    const before = await rowCounts(server);
    const sent = await postManifest(server, text, [
      ...variants.map(([id]) => ({ name: id, bytes: base.bytes })),
      { name: 'ts-1e400', bytes: base.bytes },
    ]);
    expect(sent.status).toBe(200);
    const body = IngestResponseSchema.parse(sent.body);
    expect(body.results.map((result) => result.id)).toEqual([...variants.map(([id]) => id), 'ts-1e400']);
    // 2^53 bytes is also over the size limit, which may be said first; either way the item is refused.
    expect(body.results.every((result) => result.status === 'rejected')).toBe(true);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('answers a manifest nested 100,000 deep as a whole with 400, or its deep item as rejected', async ({
    serverAtDefaults: server,
  }) => {
    const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const before = await rowCounts(server);
    expectWhole(await postManifest(server, `{"items":${nestedObjectText(100_000)}}`, []), 'INVALID_BATCH');
    expectWhole(await postManifest(server, `{"items":[],"x":${deepArray}}`, []), 'INVALID_BATCH');
    expectWhole(await postManifest(server, deepArray, []), 'INVALID_BATCH');
    expectWhole(await postManifest(server, nestedObjectText(100_000), []), 'INVALID_BATCH');

    const inItem = await postManifest(server, `{"items":${deepArray}}`, []);
    expect(inItem.status).toBe(200);
    expect(IngestResponseSchema.parse(inItem.body).results).toEqual([
      expect.objectContaining({
        id: '',
        status: 'rejected',
        error: expect.objectContaining({ code: 'INVALID_ITEM' }),
      }),
    ]);
    const blob = makeBlob({ size: 16, id: 'meta-deep-100k' });
    const inMeta = await postManifest(
      server,
      `{"items":[${JSON.stringify(blob.item).replace(/\}$/, `,"meta":{"a":${deepArray}}}`)}]}`,
      [{ name: blob.item.id, bytes: blob.bytes }],
    );
    expect(inMeta.status).toBe(200);
    expect(IngestResponseSchema.parse(inMeta.body).results).toEqual([
      expect.objectContaining({ id: 'meta-deep-100k', status: 'rejected' }),
    ]);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('fails the whole request with 400 when the body ends inside a file part, writing nothing', async ({
    serverAtDefaults: server,
  }) => {
    const blobs = [makeBlob({ size: 4000 }), makeBlob({ size: 4000 })];
    const { body, contentType } = multipartBody(partsFor(blobs));
    const before = await rowCounts(server);
    for (const cut of [body.length - 2000, body.length - 6000, body.length - 10]) {
      const response = await fetch(`${server.url}/v1/blobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': contentType },
        body: body.subarray(0, cut),
      });
      expectWhole({ status: response.status, body: await response.json() }, 'INVALID_BATCH');
    }
    expect(await rowCounts(server)).toEqual(before);
  });

  it('fails the whole request with 400 on a missing or wrong boundary and on two manifest fields', async ({
    serverAtDefaults: server,
  }) => {
    const blob = makeBlob({ size: 100 });
    const { body, contentType } = multipartBody(partsFor([blob]));
    const before = await rowCounts(server);
    for (const type of [
      'multipart/form-data',
      'multipart/form-data; boundary=elsewhere',
      `${contentType}x`,
    ]) {
      const response = await fetch(`${server.url}/v1/blobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': type },
        body,
      });
      expectWhole({ status: response.status, body: await response.json() }, 'INVALID_BATCH');
    }
    const twice = await postBlobs<ErrorBody>(server, [
      { name: 'manifest', value: JSON.stringify({ items: [blob.item] }) },
      { name: 'manifest', value: JSON.stringify({ items: [blob.item] }) },
      { name: blob.item.id, bytes: blob.bytes },
    ]);
    expectWhole(twice, 'INVALID_BATCH');
    expect(await rowCounts(server)).toEqual(before);
  });

  it('refuses a Content-Encoding on a blob request with 415 instead of storing undecoded bytes', async ({
    serverAtDefaults: server,
  }) => {
    const blob = makeBlob({ size: 100 });
    const { body, contentType } = multipartBody(partsFor([blob]));
    const before = await rowCounts(server);
    for (const [encoding, payload] of [
      ['gzip', body],
      ['gzip', gzipSync(body)],
      ['br', body],
    ] as const) {
      const response = await fetch(`${server.url}/v1/blobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.apiKey}`,
          'content-type': contentType,
          'content-encoding': encoding,
        },
        body: payload,
      });
      expectWhole({ status: response.status, body: await response.json() }, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await rowCounts(server)).toEqual(before);
  });
});

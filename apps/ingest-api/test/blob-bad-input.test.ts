import { DEFAULT_LIMITS, type ErrorBody, type IngestResponse } from '@sluice/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing.js';
import { makeBlob, type Part, partsFor, postBlobs, rowCounts } from './blob-support.js';

const KiB = 1024;

describe('POST /v1/blobs with bad input', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      limits: {
        ...DEFAULT_LIMITS,
        maxBlobsPerRequest: 5,
        maxBlobBytes: 64 * KiB,
        maxBlobRequestBytes: 256 * KiB,
        maxBlobMetaBytes: 256,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function storedIds(): Promise<string[]> {
    const rows = await server.query<{ id: string }>(
      `select i.id from items i join blobs b using (source, id) join blob_staging s using (source, id) order by i.id`,
    );
    return rows.map((row) => row.id);
  }

  /** Sends a request that must fail as a whole and checks that it wrote nothing. */
  async function expectWholeFailure(parts: Part[], status: number, code: string, options = {}) {
    const before = await rowCounts(server);
    const sent = await postBlobs<ErrorBody>(server, parts, options);
    expect(sent.status).toBe(status);
    expect(sent.body.error.code).toBe(code);
    expect(await rowCounts(server)).toEqual(before);
    return sent;
  }

  it('rejects a part bigger than its manifest size with CHECKSUM_MISMATCH and stores the others', async () => {
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
    expect(await storedIds()).toContain(good.item.id);
    expect(await storedIds()).not.toContain(big.item.id);
  });

  it('rejects a part cut short with CHECKSUM_MISMATCH', async () => {
    const short = makeBlob({ size: 1000 });
    const parts = partsFor([short]);
    parts[1] = { name: short.item.id, bytes: short.bytes.subarray(0, 999) };
    const sent = await postBlobs(server, parts);
    expect(sent.body.results[0]).toMatchObject({ status: 'rejected', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await storedIds()).not.toContain(short.item.id);
  });

  it('rejects bytes whose SHA-256 differs from the manifest with CHECKSUM_MISMATCH', async () => {
    const blob = makeBlob({ size: 500 });
    const parts = partsFor([blob]);
    const tampered = Buffer.from(blob.bytes);
    tampered[0] = (tampered[0]! + 1) % 256;
    parts[1] = { name: blob.item.id, bytes: tampered };
    const sent = await postBlobs(server, parts);
    expect(sent.body.results[0]).toMatchObject({ status: 'rejected', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await storedIds()).not.toContain(blob.item.id);
  });

  it('rejects a manifest item without a part as MISSING_PART and stores the rest', async () => {
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

  it('accepts parts in any order', async () => {
    const blobs = [makeBlob(), makeBlob(), makeBlob()];
    const [manifest, ...files] = partsFor(blobs);
    const sent = await postBlobs(server, [manifest!, ...files.reverse()]);
    expect(sent.body.results.map((result) => result.status)).toEqual(['stored', 'stored', 'stored']);
  });

  it('rejects invalid manifest items one by one and still reads the request to its end', async () => {
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

  it('fails the whole request on a part no manifest item names, writing nothing', async () => {
    const blob = makeBlob();
    await expectWholeFailure(
      [...partsFor([blob]), { name: 'stranger', bytes: Buffer.from('hi') }],
      400,
      'INVALID_BATCH',
    );
    expect(await storedIds()).not.toContain(blob.item.id);
  });

  it('fails the whole request on a second part for the same manifest item', async () => {
    const blob = makeBlob();
    await expectWholeFailure(
      [...partsFor([blob]), { name: blob.item.id, bytes: blob.bytes }],
      400,
      'INVALID_BATCH',
    );
  });

  it('fails the whole request without a manifest', async () => {
    const blob = makeBlob();
    await expectWholeFailure(partsFor([blob]).slice(1), 400, 'INVALID_BATCH');
  });

  it('fails the whole request when the manifest is not the first part', async () => {
    const blob = makeBlob();
    const [manifest, file] = partsFor([blob]);
    await expectWholeFailure([file!, manifest!], 400, 'INVALID_BATCH');
  });

  it('fails the whole request on a manifest that is not JSON, has no items, or too many', async () => {
    await expectWholeFailure([{ name: 'manifest', value: '{"items": [' }], 400, 'INVALID_BATCH');
    await expectWholeFailure([{ name: 'manifest', value: '{"items": []}' }], 400, 'INVALID_BATCH');
    await expectWholeFailure([{ name: 'manifest', value: '{"blobs": []}' }], 400, 'INVALID_BATCH');
    const six = Array.from({ length: 6 }, () => makeBlob({ size: 10 }));
    await expectWholeFailure(partsFor(six), 400, 'INVALID_BATCH');
  });

  it('refuses a request declaring more bytes than the limit with 413, writing nothing', async () => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 60 * KiB }));
    await expectWholeFailure(partsFor(blobs), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('stops a streamed request once it passes the limit with 413, writing none of the blobs before the limit', async () => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 60 * KiB }));
    await expectWholeFailure(partsFor(blobs), 413, 'PAYLOAD_TOO_LARGE', { chunked: true });
    for (const blob of blobs) expect(await storedIds()).not.toContain(blob.item.id);
  });

  it('accepts a streamed request within the limit', async () => {
    const blobs = Array.from({ length: 3 }, () => makeBlob({ size: 60 * KiB }));
    const sent = await postBlobs(server, partsFor(blobs), { chunked: true });
    expect(sent.body.counts.stored).toBe(3);
  });

  it('answers 415 to a body that is not multipart and writes nothing', async () => {
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

  it('answers 401 to a wrong key and writes nothing', async () => {
    const before = await rowCounts(server);
    const sent = await postBlobs<ErrorBody>(server, partsFor([makeBlob()]), {
      headers: { authorization: 'Bearer wrong-key' },
    });
    expect(sent.status).toBe(401);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('answers a repeated id within one manifest against the first', async () => {
    const blob = makeBlob();
    const sent = await postBlobs<IngestResponse>(server, [
      { name: 'manifest', value: JSON.stringify({ items: [blob.item, blob.item] }) },
      { name: blob.item.id, bytes: blob.bytes },
      { name: blob.item.id, bytes: blob.bytes },
    ]);
    expect(sent.body.results.map((result) => result.status)).toEqual(['stored', 'duplicate']);
  });
});

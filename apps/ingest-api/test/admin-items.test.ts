import { AdminItemSchema, type ItemPage, ItemPageSchema, MAX_DATE_MS } from '@sluice/contracts';
import { vi } from 'vitest';
import type { Database } from '../src/db/database.js';
import type { ObjectStore } from '../src/object-store/object-store.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs, waitFor } from './blob-support.js';
import { admin } from './support/admin.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

type Server = Parameters<typeof postBatch>[0];

async function search(url: string, query: string): Promise<ItemPage> {
  const answer = await admin(url, `/admin/v1/items?${query}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return ItemPageSchema.parse(answer.body);
}

/** Every page of a search, following nextCursor; `between` runs after each page. */
async function allPages(url: string, query: string, between: () => Promise<void> = async () => {}) {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await search(url, `${query}${cursor === undefined ? '' : `&cursor=${cursor}`}`);
    seen.push(...page.items.map((item) => `${item.source}/${item.id}`));
    cursor = page.nextCursor;
    pages += 1;
    await between();
  } while (cursor !== undefined);
  return { seen, pages };
}

/** Runs a blob worker on the test server's database and object store until `done`. */
async function runWorkerUntil(
  server: { app: { db: Database; objectStore: ObjectStore } },
  what: string,
  done: () => Promise<boolean>,
): Promise<void> {
  const worker = new BlobWorker({
    db: server.app.db,
    objectStore: server.app.objectStore,
    pollIntervalMs: 10,
  });
  worker.start();
  try {
    await waitFor(what, done);
  } finally {
    await worker.stop();
  }
}

async function postRecords(server: Server, ids: string[], type = 'click', key: string = server.apiKey) {
  const answer = await postBatch(server, { items: ids.map((id) => record(id, { id }, type)) }, { key });
  expect(answer.status).toBe(200);
}

describe('admin item search', () => {
  it('filters by source, kind, type and receivedAt range, newest first', async ({ server }) => {
    await postRecords(server, ['f-1', 'f-2'], 'view');
    await postRecords(server, ['f-3'], 'click', 'other-key');
    const blob = makeBlob();
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);

    const views = await search(server.url, 'type=view');
    expect(views.items.map((item) => item.id).sort()).toEqual(['f-1', 'f-2']);
    expect(views.items[0]).toMatchObject({
      source: 'test',
      kind: 'record',
      type: 'view',
      ts: 1_766_557_428_498,
    });
    expect(views.items[0]?.size).toBeGreaterThan(0);
    expect((await search(server.url, 'source=other')).items.map((item) => item.id)).toEqual(['f-3']);
    const blobs = await search(server.url, 'kind=blob');
    expect(blobs.items).toEqual([
      expect.objectContaining({
        id: blob.item.id,
        kind: 'blob',
        size: blob.bytes.length,
        blobState: 'pending',
      }),
    ]);
    const all = await search(server.url, 'limit=500');
    expect(all.items[0]?.id).toBe(blob.item.id);
    const receivedAts = all.items.map((item) => item.receivedAt);
    expect([...receivedAts].sort((a, b) => b - a)).toEqual(receivedAts);
    const at = blobs.items[0]?.receivedAt ?? 0;
    expect((await search(server.url, `from=${at}&kind=blob`)).items).toHaveLength(1);
    expect((await search(server.url, `to=${at}&kind=blob`)).items).toHaveLength(0);
    expect((await search(server.url, `from=${at + 60_000}`)).items).toHaveLength(0);
    // The latest date the contract allows (year 275760) is a bound like any other, not a 400.
    expect((await search(server.url, `to=${MAX_DATE_MS}&kind=blob`)).items).toHaveLength(1);
    expect((await search(server.url, `from=${MAX_DATE_MS}`)).items).toHaveLength(0);
  });

  it('pages through every matching item exactly once and in order, while new items keep arriving', async ({
    server,
  }) => {
    for (let batch = 0; batch < 4; batch++) {
      await postRecords(
        server,
        Array.from({ length: 6 }, (_, i) => `p-${batch}-${i}`),
        'paged',
      );
    }
    const expected = (
      await server.query<{ source: string; id: string }>(
        "select source, id from items where type = 'paged' order by received_at desc, source desc, id desc",
      )
    ).map((row) => `${row.source}/${row.id}`);
    expect(expected).toHaveLength(24);
    let extra = 0;
    const { seen, pages } = await allPages(server.url, 'type=paged&limit=5', async () => {
      extra += 1;
      await postRecords(server, [`p-new-${extra}`], 'paged');
    });
    expect(pages).toBe(5);
    expect(seen).toEqual(expected);
  });

  it('answers 400 INVALID_REQUEST for hostile query parameters, never a 5xx', async ({ server }) => {
    const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const bad = [
      'cursor=garbage!',
      'cursor=bm90IGpzb24',
      `cursor=${forged({ a: 1 })}`,
      `cursor=${forged(['2026-02-30T00:00:00.000000Z', 'test', 'x'])}`,
      `cursor=${forged(['2026-13-01T00:00:00.000000Z', 'test', 'x'])}`,
      `cursor=${forged(['2026-01-01T00:00:00.000000Z', "test'; drop table items; --", 'x'])}`,
      `cursor=${forged(['2026-01-01T00:00:00.000000Z', 'test'])}`,
      `cursor=${'A'.repeat(600)}`,
      'limit=0',
      'limit=10000',
      'limit=-1',
      'limit=1.5',
      'limit=abc',
      'limit=1&limit=2',
      'from=NaN',
      'to=abc',
      'from=-5',
      'to=1e300',
      'from=99999999999999999999',
      // Not decimal digits: read as numbers (0x10 = 16, " " = 0) they would filter silently.
      'from=0x10',
      'from=%20',
      'to=1e3',
      'limit=%2010',
      'kind=video',
      'source=a%20b',
      `source=${'s'.repeat(65)}`,
      'type=%00',
      'unknown=1',
    ];
    for (const query of bad) {
      const answer = await admin(server.url, `/admin/v1/items?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body, query).toMatchObject({ error: { code: 'INVALID_REQUEST', retryable: false } });
    }
    // A forged cursor of the right shape is only another position.
    const page = await search(server.url, `cursor=${forged(['2999-01-01T00:00:00.000000Z', 'zzz', 'zzz'])}`);
    expect(page.items.length).toBeGreaterThan(0);
    // An empty value, as a form sends an unset field, is no filter (it was read as 0: `to=` found nothing).
    const all = await search(server.url, '');
    expect(all.items.length).toBeGreaterThan(0);
    expect(await search(server.url, 'from=&to=&limit=')).toEqual(all);
  });
});

describe('admin item detail and blob bytes', () => {
  it('returns one record with its data, one blob with its blob row, 404 for an unknown item', async ({
    server,
  }) => {
    await postBatch(server, { items: [record('d-1', { nested: { a: [1, 2] }, s: '<script>' })] });
    const one = await admin(server.url, '/admin/v1/items/test/d-1');
    expect(one.status).toBe(200);
    expect(AdminItemSchema.parse(one.body)).toMatchObject({
      source: 'test',
      id: 'd-1',
      kind: 'record',
      data: { nested: { a: [1, 2] }, s: '<script>' },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const blob = makeBlob({ meta: { camera: 'front' } });
    await postBlobs(server, partsFor([blob]));
    const blobItem = AdminItemSchema.parse(
      (await admin(server.url, `/admin/v1/items/test/${blob.item.id}`)).body,
    );
    expect(blobItem.blob).toMatchObject({
      state: 'pending',
      size: blob.bytes.length,
      contentType: 'image/png',
      sha256: blob.item.sha256,
      meta: { camera: 'front' },
    });
    expect(blobItem.data).toBeUndefined();
    for (const path of [
      '/admin/v1/items/test/nope',
      '/admin/v1/items/other/d-1',
      '/admin/v1/items/nope/d-1/bytes',
    ]) {
      const answer = await admin(server.url, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    expect((await admin(server.url, '/admin/v1/items/test/d-1/bytes')).status).toBe(404);
    for (const path of [
      '/admin/v1/items/a%20b/x',
      '/admin/v1/items/test/%00',
      `/admin/v1/items/test/${'i'.repeat(129)}`,
      `/admin/v1/items/test/${'i'.repeat(400)}/bytes`,
      '/admin/v1/items/test/%FF%FE',
      "/admin/v1/items/test/x';drop table items;--",
    ]) {
      const answer = await admin(server.url, path);
      expect(answer.status, path).toBe(400);
      expect(answer.body, path).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
  });

  it('serves a blob staged and then uploaded, byte for byte, with headers that keep it from running', async ({
    server,
  }) => {
    const png = makeBlob({ size: 70_000 });
    const svg = makeBlob({
      bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    });
    const html = makeBlob({ bytes: Buffer.from('<html><script>alert(1)</script></html>') });
    const blobs = [
      png,
      { ...svg, item: { ...svg.item, contentType: 'image/svg+xml' } },
      { ...html, item: { ...html.item, contentType: 'text/html; charset=utf-8' } },
    ];
    expect((await postBlobs(server, partsFor(blobs))).body.counts.stored).toBe(3);

    async function bytesOf(id: string) {
      const response = await fetch(`${server.url}/admin/v1/items/test/${id}/bytes`, {
        headers: { authorization: `Bearer ${server.config.admin.key}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
      return { headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
    }

    const staged = await bytesOf(png.item.id);
    expect(staged.bytes.equals(Buffer.from(png.bytes))).toBe(true);
    expect(staged.headers.get('content-type')).toBe('image/png');
    expect(staged.headers.get('content-disposition')).toBe('inline');
    const svgAnswer = await bytesOf(svg.item.id);
    expect(svgAnswer.headers.get('content-type')).toBe('image/svg+xml');
    expect(svgAnswer.headers.get('content-disposition')).toBe('attachment');
    const htmlAnswer = await bytesOf(html.item.id);
    expect(htmlAnswer.headers.get('content-disposition')).toBe('attachment');
    expect(htmlAnswer.bytes.equals(Buffer.from(html.bytes))).toBe(true);

    await runWorkerUntil(server, 'the blobs to be uploaded', async () => {
      const rows = await server.query<{ n: number }>(
        "select count(*)::int as n from blobs where state = 'uploaded' and id = any($1::text[])",
        [blobs.map((blob) => blob.item.id)],
      );
      return rows[0]?.n === 3;
    });
    const ids = blobs.map((blob) => blob.item.id);
    expect(await server.query('select id from blob_staging where id = any($1::text[])', [ids])).toEqual([]);
    const uploaded = await bytesOf(png.item.id);
    expect(uploaded.bytes.equals(Buffer.from(png.bytes))).toBe(true);
    expect(uploaded.headers.get('content-disposition')).toBe('inline');
    expect((await bytesOf(svg.item.id)).headers.get('content-disposition')).toBe('attachment');

    // HEAD answers from the blob's row: the same headers, and no read of the object.
    const reads = vi.spyOn(server.app.objectStore, 'getStream');
    const head = await fetch(`${server.url}/admin/v1/items/test/${png.item.id}/bytes`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${server.config.admin.key}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.bytes.length));
    expect(head.headers.get('content-type')).toBe('image/png');
    expect(head.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    const anonymous = await fetch(`${server.url}/admin/v1/items/test/${png.item.id}/bytes`, {
      method: 'HEAD',
    });
    expect(anonymous.status).toBe(401);
    const headStatus = async (id: string) =>
      (
        await fetch(`${server.url}/admin/v1/items/test/${id}/bytes`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${server.config.admin.key}` },
        })
      ).status;
    expect(await headStatus('nope')).toBe(404);
    // HEAD answers 200 only when GET would serve bytes: not for an uploaded blob whose object is gone.
    const gone = vi.spyOn(server.app.objectStore, 'head').mockResolvedValue(undefined);
    expect(await headStatus(png.item.id)).toBe(404);
    gone.mockRestore();
  });

  it('answers HEAD 404, as GET does, for a blob whose staged bytes are gone', async ({ server }) => {
    const blob = makeBlob({ size: 5000 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const status = async (method: string) =>
      (
        await fetch(`${server.url}/admin/v1/items/test/${blob.item.id}/bytes`, {
          method,
          headers: { authorization: `Bearer ${server.config.admin.key}` },
        })
      ).status;
    expect(await status('HEAD')).toBe(200);
    await server.query('delete from blob_staging where id = $1', [blob.item.id]);
    expect(await status('GET')).toBe(404);
    expect(await status('HEAD')).toBe(404);
  });

  // A download of a blob of several staging chunks that the worker uploads (and unstages) while it is read:
  // the rest of the bytes come from the object store, so the 200 ends with every byte, not short.
  it('serves every byte of a blob uploaded and unstaged while it is being downloaded', async ({ server }) => {
    const blob = makeBlob({ size: 24 * 1024 * 1024 + 12_345 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const response = await fetch(`${server.url}/admin/v1/items/test/${blob.item.id}/bytes`, {
      headers: { authorization: `Bearer ${server.config.admin.key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(blob.bytes.length));
    const reader = response.body!.getReader();
    const received: Uint8Array[] = [];
    const first = await reader.read();
    received.push(first.value!);

    await runWorkerUntil(server, 'the blob to be uploaded and unstaged', async () => {
      const staged = await server.query('select 1 from blob_staging where id = $1', [blob.item.id]);
      const uploaded = await server.query("select 1 from blobs where id = $1 and state = 'uploaded'", [
        blob.item.id,
      ]);
      return staged.length === 0 && uploaded.length === 1;
    });
    for (let next = await reader.read(); !next.done; next = await reader.read()) received.push(next.value);
    expect(Buffer.concat(received).equals(Buffer.from(blob.bytes))).toBe(true);
  });
});

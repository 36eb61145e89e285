import { DEFAULT_LIMITS, recordHash } from '@sluice/contracts';
import { type DeliveredEvent, isUploaderClosedError } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import { enqueueMany, notStoredOnce, storedIds, waitFor } from './support/harness.js';

describe('uploader against the real ingest API', () => {
  it('delivers every enqueued record exactly once, with the hash the server computes', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    const delivered: DeliveredEvent[] = [];
    uploader.on('delivered', (event) => delivered.push(event));
    const ids = await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        uploader.enqueue({ type: 'click', data: { i, text: `item ${i}` } }),
      ),
    );
    await uploader.flush();
    const rows = await storedIds(server);
    expect(rows.size).toBe(3000);
    for (const { id } of ids) expect(rows.get(id)).toBe(1);
    const stats = uploader.stats();
    expect(stats).toMatchObject({ delivered: 3000, duplicates: 0, dead: 0, queued: 0, inFlight: 0 });
    expect(delivered.flatMap((event) => event.items).filter((item) => item.status === 'stored')).toHaveLength(
      3000,
    );

    const [one] = await server.query<{ hash: string; ts: string | number; type: string; data: unknown }>(
      'select hash, ts, type, data from items where source = $1 and id = $2',
      [server.source, ids[7]!.id],
    );
    expect(one!.hash).toBe(recordHash({ type: one!.type, ts: Number(one!.ts), data: one!.data as never }));
    expect(one!.data).toEqual({ i: 7, text: 'item 7' });
  });

  it('flush covers everything enqueued before it while producers keep enqueueing', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    let producing = true;
    const producers = Array.from({ length: 8 }, async () => {
      while (producing) await uploader.enqueue({ type: 'background', data: 'x' });
    });
    const ids = await enqueueMany(uploader, 500);
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    producing = false;
    await Promise.all(producers);
  });

  it("closes batches within the server's published limits", async ({ openUploader, startServer }) => {
    const server = await startServer({ limits: { ...DEFAULT_LIMITS, maxBatchItems: 10 } });
    const statuses: number[] = [];
    const { uploader } = await openUploader({
      endpoint: server.url,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (new URL(input instanceof Request ? input.url : String(input)).pathname === '/v1/batch') {
          statuses.push(response.status);
        }
        return response;
      },
    });
    await waitFor(() => uploader.stats().limits.maxBatchItems === 10);
    const ids = await enqueueMany(uploader, 100);
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    // Never a refused request: every batch already fitted the limit.
    expect(statuses.length).toBeGreaterThanOrEqual(10);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('keeps a caller-chosen id and timestamp, and UUIDv7 ids otherwise', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    const mine = await uploader.enqueue({ id: 'order-42', ts: 1234, type: 'order', data: null });
    const generated = await uploader.enqueue({ type: 'order', data: [1, 2] });
    await uploader.flush();
    expect(mine.id).toBe('order-42');
    expect(generated.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const rows = await server.query<{ id: string; ts: string | number }>(
      'select id, ts from items where id = $1',
      ['order-42'],
    );
    expect(Number(rows[0]!.ts)).toBe(1234);
  });

  it('dead-letters a conflict with its reason, readable after restart, and acknowledges the rest', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const first = await openUploader({ endpoint: server.url });
    await first.uploader.enqueue({ id: 'same', ts: 5, type: 'click', data: { v: 1 } });
    await first.uploader.flush();
    const dead: string[] = [];
    first.uploader.on('dead', (event) =>
      dead.push(...event.items.map((item) => `${item.id}:${item.reason.code}`)),
    );
    await first.uploader.enqueue({ id: 'same', ts: 5, type: 'click', data: { v: 2 } });
    await first.uploader.flush();
    await first.uploader.enqueue({ id: 'same', ts: 5, type: 'click', data: { v: 1 } });
    await first.uploader.enqueue({ id: 'fresh', type: 'click', data: {} });
    await first.uploader.flush();
    expect(dead).toEqual(['same:IDEMPOTENCY_CONFLICT']);
    expect(first.uploader.stats()).toMatchObject({ delivered: 3, duplicates: 1, dead: 1, queued: 0 });
    await first.uploader.close();

    const again = await openUploader({ endpoint: server.url, directory: first.directory });
    const letters = await again.uploader.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: 'same',
      kind: 'record',
      type: 'click',
      status: 'conflict',
      reason: { code: 'IDEMPOTENCY_CONFLICT' },
      item: { id: 'same', data: { v: 2 } },
    });
    const [row] = await server.query<{ data: unknown }>('select data from items where id = $1', ['same']);
    expect(row!.data).toEqual({ v: 1 });
    expect(again.uploader.stats().queued).toBe(0);
  });

  it('refuses invalid records at enqueue, before anything is written', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    await expect(uploader.enqueue({ type: 'bad\ntype', data: 1 })).rejects.toThrow(TypeError);
    await expect(uploader.enqueue({ type: 'x'.repeat(129), data: 1 })).rejects.toThrow(/`type`/);
    await expect(uploader.enqueue({ type: 't', id: 'no spaces', data: 1 })).rejects.toThrow(/`id`/);
    await expect(uploader.enqueue({ type: 't', ts: -1, data: 1 })).rejects.toThrow(/`ts`/);
    await expect(uploader.enqueue({ type: 't', data: undefined })).rejects.toThrow(/`data`/);
    await expect(uploader.enqueue({ type: 't', data: { n: Number.NaN } })).rejects.toThrow(TypeError);
    await expect(uploader.enqueue({ type: 't', data: 'x'.repeat(70_000) })).rejects.toThrow(RangeError);
    expect(uploader.stats().queued).toBe(0);
  });

  it('refuses at enqueue every value the server could never store, naming the problem', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    const sparse: unknown[] = [];
    sparse[1] = 1;
    let deep: unknown = 1;
    for (let level = 0; level < 3000; level++) deep = { a: deep };
    const poison: [unknown, RegExp][] = [
      [{ list: sparse }, /data\.list\[0\] is a hole in a sparse array/],
      [{ s: 'a\u0000b' }, /U\+0000/],
      [{ s: '\ud800' }, /unpaired UTF-16 surrogate/],
      [deep, /deeper than 64 levels/],
      [{ m: new Map() }, /is a Map/],
      [{ n: 10n }, /is a bigint/],
    ];
    for (const [data, message] of poison) {
      await expect(uploader.enqueue({ type: 't', data })).rejects.toThrow(message);
    }
    expect(uploader.stats().queued).toBe(0);
    await uploader.flush();
    expect(await server.query('select id from items')).toHaveLength(0);
  });

  it('delivers analytics-style type names, with the hash the server computes', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    const types = ['Order Completed', 'page view', 'checkout/step 2', 'Überweisung ✓'];
    for (const type of types)
      await uploader.enqueue({ id: `t-${types.indexOf(type)}`, type, data: { ok: true } });
    await uploader.flush();
    const rows = await server.query<{ type: string }>('select type from items order by id');
    expect(rows.map((row) => row.type)).toEqual(types);
    expect(uploader.stats().dead).toBe(0);
  });

  it('emits drained when everything is delivered', async ({ openUploader, startServer }) => {
    const server = await startServer();
    const { uploader } = await openUploader({ endpoint: server.url });
    const drained = new Promise<void>((resolve) => uploader.once('drained', () => resolve()));
    await Promise.all(Array.from({ length: 50 }, (_, i) => uploader.enqueue({ type: 't', data: i })));
    await drained;
    expect((await storedIds(server)).size).toBe(50);
  });

  it('closes idempotently; enqueue and flush after close fail clearly; nothing queued is lost', async ({
    openUploader,
    startServer,
  }) => {
    const server = await startServer();
    const { uploader, directory } = await openUploader({
      endpoint: 'http://127.0.0.1:1',
      backoffBaseMs: 1000,
      backoffMaxMs: 5000,
    });
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => uploader.enqueue({ type: 't', data: i })),
    );
    const started = performance.now();
    await Promise.all([uploader.close(), uploader.close()]);
    await uploader.close();
    expect(performance.now() - started).toBeLessThan(2000);
    const error = await uploader.enqueue({ type: 't', data: 1 }).catch((e: unknown) => e);
    expect(isUploaderClosedError(error)).toBe(true);
    await expect(uploader.flush()).rejects.toThrow(/closed/);

    const reopened = await openUploader({ endpoint: server.url, directory });
    expect(reopened.uploader.stats().queued).toBe(20);
    const drained = new Promise<void>((resolve) => reopened.uploader.once('drained', () => resolve()));
    await reopened.uploader.flush();
    await drained;
    const rows = await storedIds(server);
    for (const { id } of ids) expect(rows.get(id)).toBe(1);
  });
});

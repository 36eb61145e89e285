import { type RecordItem, recordHash } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

describe('POST /v1/batch idempotency', () => {
  it('stores a new record, answers duplicate on resend and conflict when its data changes', async ({
    server,
  }) => {
    const first = await postBatch(server, { items: [record('a-1', { x: 1 })] });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([{ id: 'a-1', status: 'stored' }]);
    expect(first.body.counts).toEqual({ stored: 1, duplicate: 0, conflict: 0, rejected: 0, retry: 0 });

    const again = await postBatch(server, { items: [record('a-1', { x: 1 })] });
    expect(again.body.results).toEqual([{ id: 'a-1', status: 'duplicate' }]);

    const changed = await postBatch(server, { items: [record('a-1', { x: 2 })] });
    expect(changed.body.results[0]).toMatchObject({
      id: 'a-1',
      status: 'conflict',
      error: { code: 'IDEMPOTENCY_CONFLICT' },
    });

    const rows = await storedItems(server);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'a-1', data: { x: 1 }, hash: recordHash(record('a-1', { x: 1 })) });
  });

  it('stores data exactly as sent, whatever its keys, numbers, escapes and nesting', async ({ server }) => {
    const values: RecordItem['data'][] = [
      { z: 1, a: { y: [3, 2, { b: null, a: false }], x: 'é' }, '': 'empty key', é: 'after z in code units' },
      [1e21, 1e-7, -0, 0.1, 123456789012345680000, -5.5, 2 ** 53 - 1],
      'quote " backslash \\ newline \n tab \t control \u0001 emoji 😀 line separator \u2028',
      { nested: [[[[{ deep: ['😀', { '"': '\\' }] }]]]] },
      null,
      true,
      '',
    ];
    const items = values.map((data, index) => record(`rt-${index}`, data));
    const posted = await postBatch(server, { items });
    expect(posted.body.results.map((result) => result.status)).toEqual(values.map(() => 'stored'));
    const rows = new Map((await storedItems(server)).map((row) => [row.id, row]));
    for (const [index, data] of values.entries()) {
      const row = rows.get(`rt-${index}`);
      // JSON round trip: what a client reading it back gets (-0 is 0 in JSON).
      expect(row?.data).toEqual(JSON.parse(JSON.stringify(data)));
      expect(row?.hash).toBe(recordHash(record(`rt-${index}`, data)));
    }
    // Sent again, every one is the same item.
    const again = await postBatch(server, { items });
    expect(again.body.results.map((result) => result.status)).toEqual(values.map(() => 'duplicate'));
  });

  it('answers each item of a mixed batch with its own status, in order', async ({ server }) => {
    await postBatch(server, { items: [record('m-dup', 1), record('m-conf', 'old')] });
    const mixed = await postBatch(server, {
      items: [
        record('m-new', { ok: true }),
        record('m-dup', 1),
        record('m-conf', 'new'),
        { id: 'bad id!', type: 'click', ts: 1, data: null },
        { ...record('m-hash', 5), hash: '0'.repeat(64) },
        record('m-new-2', null),
      ],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.results.map((r) => [r.id, r.status, r.error?.code])).toEqual([
      ['m-new', 'stored', undefined],
      ['m-dup', 'duplicate', undefined],
      ['m-conf', 'conflict', 'IDEMPOTENCY_CONFLICT'],
      ['bad id!', 'rejected', 'INVALID_ITEM'],
      ['m-hash', 'rejected', 'HASH_MISMATCH'],
      ['m-new-2', 'stored', undefined],
    ]);
    expect(mixed.body.counts).toEqual({ stored: 2, duplicate: 1, conflict: 1, rejected: 2, retry: 0 });
    const ids = (await storedItems(server)).map((row) => row.id);
    expect(ids).toContain('m-new');
    expect(ids).toContain('m-new-2');
    expect(ids).not.toContain('m-hash');
    expect(ids).not.toContain('bad id!');
    const conf = (await storedItems(server)).find((row) => row.id === 'm-conf');
    expect(conf?.data).toBe('old');
  });

  it('lets the first of a repeated id decide: the second is duplicate or conflict against it', async ({
    server,
  }) => {
    const response = await postBatch(server, {
      items: [record('twice', { v: 1 }), record('twice', { v: 1 }), record('thrice', 1), record('thrice', 2)],
    });
    expect(response.body.results.map((r) => r.status)).toEqual(['stored', 'duplicate', 'stored', 'conflict']);
    const rows = (await storedItems(server)).filter((row) => row.id === 'twice' || row.id === 'thrice');
    expect(rows.map((row) => [row.id, row.data])).toEqual([
      ['thrice', 1],
      ['twice', { v: 1 }],
    ]);
  });

  it('accepts a correct client-supplied hash and stores the server-computed one', async ({ server }) => {
    const item = record('h-ok', { deep: { b: 1, a: [1, 2] } });
    const response = await postBatch(server, { items: [{ ...item, hash: recordHash(item) }] });
    expect(response.body.results).toEqual([{ id: 'h-ok', status: 'stored' }]);
    const row = (await storedItems(server)).find((r) => r.id === 'h-ok');
    expect(row?.hash).toBe(recordHash(item));
  });

  it('keeps sources apart: the same id in another source is a new item', async ({ server }) => {
    await postBatch(server, { items: [record('shared-id', 1)] });
    const other = await postBatch(server, { items: [record('shared-id', 2)] }, { key: 'other-key' });
    expect(other.body.results).toEqual([{ id: 'shared-id', status: 'stored' }]);
    expect((await storedItems(server, 'other')).map((r) => [r.id, r.data])).toEqual([['shared-id', 2]]);
  });
});

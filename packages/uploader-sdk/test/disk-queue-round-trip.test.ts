import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { UploaderClosedError } from '../src/errors.js';
import { numbersOf, payloadOf, readAll, segmentFiles, tempDirectory, track } from './disk-queue-helpers.js';

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('disk queue round trip', () => {
  it('reads back what was appended, in order, across segment rollovers', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: 1024 }));
    const seqs = await Promise.all(range(200).map((n) => queue.append(payloadOf(n))));
    expect(seqs).toEqual(range(200, 1));
    expect((await segmentFiles(directory)).length).toBeGreaterThan(5);

    const entries = await readAll(queue, 37);
    expect(numbersOf(entries)).toEqual(range(200));
    expect(entries.map((entry) => entry.seq)).toEqual(range(200, 1));
    expect(queue.stats()).toMatchObject({ entries: 200, bytes: 200 * 16, unread: 0 });
  });

  it('hands each entry out once per process', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory() }));
    await queue.appendMany(range(10).map((n) => payloadOf(n)));
    const first = await queue.read(4, Number.POSITIVE_INFINITY);
    const second = await queue.read(100, Number.POSITIVE_INFINITY);
    expect(numbersOf(first)).toEqual(range(4));
    expect(numbersOf(second)).toEqual(range(6, 4));
    expect(await queue.read(100, Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('keeps every payload read intact while later reads, refills, large frames and appends go on', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: 256 * 1024 }));
    // Small frames spanning several 64 KiB read buffers, one frame larger than a buffer, more small ones.
    const sizes = [...range(3000).map(() => 100), 200_000, ...range(3000).map(() => 100)];
    await queue.appendMany(sizes.map((size, n) => payloadOf(n, size)));
    const held = [];
    for (let page = await queue.read(7, 1e9); page.length > 0; page = await queue.read(7, 1e9)) {
      held.push(...page);
      // Appending while entries are held writes to the segment the reader reads from.
      if (held.length % 700 === 0) await queue.append(payloadOf(sizes.length + held.length, 100));
    }
    const expected = sizes.map((size, n) => payloadOf(n, size));
    const original = held.slice(0, sizes.length);
    expect(original.every((entry, n) => Buffer.from(entry.payload).equals(expected[n]!))).toBe(true);
  });

  // A payload is a view of the buffer it was read into; read as it is written (one entry at a time), a
  // held payload must not keep a 64 KiB read buffer alive each.
  it('reads an entry written just before into a buffer about its size', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory() }));
    const held = [];
    for (let n = 0; n < 50; n += 1) {
      await queue.append(payloadOf(n, 200));
      held.push(...(await queue.read(10, Number.POSITIVE_INFINITY)));
    }
    expect(numbersOf(held)).toEqual(range(50));
    // Small buffers come from Node's shared pool (8 KiB slabs on Node 20, 64 KiB on Node 24, shared with
    // other allocations): the 50 held payloads keep a few slabs alive, not a 64 KiB buffer each (3.2 MB).
    const buffers = new Set(held.map((entry) => entry.payload.buffer));
    const retained = [...buffers].reduce((sum, buffer) => sum + buffer.byteLength, 0);
    expect(retained).toBeLessThan((50 * 64 * 1024) / 4);
  });

  it('stops a read at about maxBytes but always returns at least one entry', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory() }));
    await queue.appendMany(range(10).map((n) => payloadOf(n, 100)));
    expect(numbersOf(await queue.read(100, 250))).toEqual([0, 1]);
    expect(numbersOf(await queue.read(100, 10))).toEqual([2]);
  });

  it('reads un-acknowledged entries again after a reopen, and acknowledged ones never', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, segmentBytes: 512 });
    await queue.appendMany(range(50).map((n) => payloadOf(n)));
    const entries = await readAll(queue);
    const acked = entries.filter((_, index) => index % 3 === 0);
    await queue.ack(acked.map((entry) => entry.seq));
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: 512 }));
    const expected = range(50).filter((n) => n % 3 !== 0);
    expect(reopened.stats()).toMatchObject({
      entries: expected.length,
      unread: expected.length,
      corruptSkipped: 0,
    });
    expect(numbersOf(await readAll(reopened))).toEqual(expected);
  });

  it('deletes segments once every entry in them is acknowledged, and keeps seqs increasing', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, segmentBytes: 256 });
    await queue.appendMany(range(40).map((n) => payloadOf(n)));
    const before = await segmentFiles(directory);
    const entries = await readAll(queue);
    await queue.ack(entries.slice(0, 20).map((entry) => entry.seq));
    const after = await segmentFiles(directory);
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]! > before[0]!).toBe(true);

    await queue.ack(entries.slice(20).map((entry) => entry.seq));
    // The segment being written stays; everything sealed is gone.
    expect((await segmentFiles(directory)).length).toBeLessThanOrEqual(1);
    expect(queue.stats()).toMatchObject({ entries: 0, bytes: 0, unread: 0 });
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: 256 }));
    expect(await segmentFiles(directory)).toEqual([]);
    expect(await reopened.append(payloadOf(40))).toBe(41);
    expect(numbersOf(await readAll(reopened))).toEqual([40]);
  });

  it('accepts acknowledgements out of order and for entries not yet read', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory });
    await queue.appendMany(range(10).map((n) => payloadOf(n)));
    const firstHalf = await queue.read(5, Number.POSITIVE_INFINITY);
    await queue.ack([firstHalf[3]!.seq, firstHalf[1]!.seq, 9]);
    expect(queue.stats()).toMatchObject({ entries: 7, unread: 4 });
    expect(numbersOf(await readAll(queue))).toEqual([5, 6, 7, 9]);
    expect(queue.stats().bytes).toBe(7 * 16);
    await queue.close();

    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual([0, 2, 4, 5, 6, 7, 9]);
  });

  it('opens an empty directory with zeroed stats and no segment files', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory });
    expect(queue.stats()).toEqual({
      entries: 0,
      bytes: 0,
      unread: 0,
      corruptSkipped: 0,
      dropped: 0,
      oldestAppendedAt: undefined,
    });
    await queue.close();
    expect(await segmentFiles(directory)).toEqual([]);
  });

  it('reports when the oldest un-acknowledged entry was appended', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory() }));
    const before = Date.now();
    await queue.append(payloadOf(0));
    const after = Date.now();
    const appendedAt = queue.stats().oldestAppendedAt!;
    expect(appendedAt).toBeGreaterThanOrEqual(before);
    expect(appendedAt).toBeLessThanOrEqual(after);
    const [entry] = await queue.read(1, Number.POSITIVE_INFINITY);
    expect(queue.stats().oldestAppendedAt).toBe(appendedAt);
    await queue.ack([entry!.seq]);
    expect(queue.stats().oldestAppendedAt).toBeUndefined();
  });

  it('wakes a waiting reader on append, on abort and on close', async () => {
    const queue = await openDiskQueue({ directory: await tempDirectory() });
    const waiting = queue.waitForUnread();
    await queue.append(payloadOf(0));
    await waiting;
    expect(queue.stats().unread).toBe(1);
    await queue.read(1, Number.POSITIVE_INFINITY);

    const controller = new AbortController();
    const aborted = queue.waitForUnread(controller.signal);
    controller.abort();
    await aborted;

    const closing = queue.waitForUnread();
    await queue.close();
    await closing;
  });

  it('finishes pending appends on close, is idempotent, and refuses calls afterwards', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory });
    const appends = range(20).map((n) => queue.append(payloadOf(n)));
    await Promise.all([queue.close(), queue.close()]);
    expect(await Promise.all(appends)).toEqual(range(20, 1));
    await queue.close();
    await expect(queue.append(payloadOf(99))).rejects.toBeInstanceOf(UploaderClosedError);
    await expect(queue.read(1, 1)).rejects.toBeInstanceOf(UploaderClosedError);
    await expect(queue.ack([1])).rejects.toBeInstanceOf(UploaderClosedError);

    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual(range(20));
  });

  it('keeps entries with durability os, and frames a segment to the byte', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, durability: 'os' });
    await Promise.all(range(100).map((n) => queue.append(payloadOf(n))));
    await queue.close();
    const [segment] = await segmentFiles(directory);
    expect((await stat(join(directory, segment!))).size).toBe(100 * (28 + 16));
    const reopened = track(await openDiskQueue({ directory, durability: 'os' }));
    expect(numbersOf(await readAll(reopened))).toEqual(range(100));
  });

  it('validates options with a TypeError naming the option', async () => {
    const directory = await tempDirectory();
    await expect(openDiskQueue({ directory, maxBytes: 0 })).rejects.toThrow(/maxBytes/);
    await expect(openDiskQueue({ directory, durability: 'never' as 'os' })).rejects.toThrow(/durability/);
    await expect(openDiskQueue({ directory, whenFull: 'block' as 'reject' })).rejects.toThrow(/whenFull/);
    await expect(openDiskQueue({ directory, segmentBytes: 1.5 })).rejects.toThrow(/segmentBytes/);
  });
});

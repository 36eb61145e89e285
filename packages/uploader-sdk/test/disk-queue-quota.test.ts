import { describe, expect, it } from 'vitest';
import { openDiskQueue, type QueueEntry } from '../src/disk-queue/index.js';
import { QueueFullError } from '../src/errors.js';
import { numbersOf, payloadOf, readAll, tempDirectory, track } from './disk-queue-helpers.js';

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('disk queue byte quota', () => {
  it('rejects with QueueFullError and writes nothing once the quota is reached', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, maxBytes: 100 });
    await queue.appendMany(range(6).map((n) => payloadOf(n))); // 96 bytes
    const error = await queue.append(payloadOf(6)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toMatchObject({ name: 'QueueFullError', maxBytes: 100, requestedBytes: 16 });
    await expect(queue.appendMany([payloadOf(7, 2), payloadOf(8, 4)])).rejects.toBeInstanceOf(QueueFullError);
    expect(queue.stats()).toMatchObject({ entries: 6, bytes: 96 });
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, maxBytes: 100 }));
    expect(numbersOf(await readAll(reopened))).toEqual(range(6));
  });

  it('counts appends still being written against the quota', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory(), maxBytes: 100 }));
    const results = await Promise.allSettled(range(10).map((n) => queue.append(payloadOf(n))));
    expect(results.map((result) => result.status)).toEqual([
      ...Array(6).fill('fulfilled'),
      ...Array(4).fill('rejected'),
    ]);
  });

  it('frees quota when entries are acknowledged', async () => {
    const queue = track(await openDiskQueue({ directory: await tempDirectory(), maxBytes: 32 }));
    await queue.appendMany([payloadOf(0), payloadOf(1)]);
    await expect(queue.append(payloadOf(2))).rejects.toBeInstanceOf(QueueFullError);
    const [entry] = await queue.read(1, Number.POSITIVE_INFINITY);
    await queue.ack([entry!.seq]);
    await queue.append(payloadOf(2));
    expect(numbersOf(await readAll(queue))).toEqual([1, 2]);
  });

  it('always rejects an entry larger than the quota, whatever whenFull says', async () => {
    const queue = track(
      await openDiskQueue({ directory: await tempDirectory(), maxBytes: 64, whenFull: 'drop-oldest' }),
    );
    await queue.append(payloadOf(0));
    await expect(queue.append(Buffer.alloc(65))).rejects.toBeInstanceOf(QueueFullError);
    await expect(queue.appendMany([Buffer.alloc(40), Buffer.alloc(40)])).rejects.toBeInstanceOf(
      QueueFullError,
    );
    expect(queue.stats()).toMatchObject({ entries: 1, dropped: 0 });
  });

  it('drops the oldest entries under drop-oldest, reports them, and never delivers them', async () => {
    const directory = await tempDirectory();
    const reported: QueueEntry[] = [];
    const queue = await openDiskQueue({
      directory,
      maxBytes: 160,
      whenFull: 'drop-oldest',
      segmentBytes: 200,
      onDrop: (entries) => {
        reported.push(...entries);
      },
    });
    for (const n of range(25)) await queue.append(payloadOf(n));
    expect(queue.stats()).toMatchObject({ entries: 10, bytes: 160, dropped: 15 });
    expect(numbersOf(reported)).toEqual(range(15));
    const [inFlight] = await queue.read(1, Number.POSITIVE_INFINITY);
    expect(numbersOf([inFlight!])).toEqual([15]);
    // Entries already handed out are dropped too when they are the oldest.
    await queue.appendMany([payloadOf(25), payloadOf(26)]);
    expect(numbersOf(reported.slice(15))).toEqual([15, 16]);
    expect(numbersOf(await readAll(queue))).toEqual(range(10, 17));
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, maxBytes: 160, whenFull: 'drop-oldest' }));
    expect(reopened.stats()).toMatchObject({ entries: 10, dropped: 0 });
    expect(numbersOf(await readAll(reopened))).toEqual(range(10, 17));
  });

  it('drops as much as a large concurrent burst needs', async () => {
    const queue = track(
      await openDiskQueue({ directory: await tempDirectory(), maxBytes: 400, whenFull: 'drop-oldest' }),
    );
    const seqs = await Promise.all(range(200).map((n) => queue.append(payloadOf(n))));
    expect(seqs).toEqual(range(200, 1));
    expect(queue.stats()).toMatchObject({ entries: 25, bytes: 400, dropped: 175 });
    expect(numbersOf(await readAll(queue))).toEqual(range(25, 175));
  });

  it('rejects the append whose room onDrop failed to make, keeping the cause', async () => {
    const failure = new Error('the drop log is unavailable');
    const queue = track(
      await openDiskQueue({
        directory: await tempDirectory(),
        maxBytes: 32,
        whenFull: 'drop-oldest',
        onDrop: () => {
          throw failure;
        },
      }),
    );
    await queue.appendMany([payloadOf(0), payloadOf(1)]);
    await expect(queue.append(payloadOf(2))).rejects.toBe(failure);
  });
});

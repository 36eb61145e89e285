import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, readAll, tempDirectory, track } from './disk-queue-helpers.js';

describe('disk queue scan', () => {
  it('visits every unacknowledged entry, read or not, across segments and a reopen, handing none out', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, segmentBytes: 200 });
    await queue.appendMany(Array.from({ length: 20 }, (_, n) => payloadOf(n)));
    const read = await queue.read(5, Number.POSITIVE_INFINITY);
    await queue.ack([read[0]!.seq, read[2]!.seq]);
    const seen: number[] = [];
    await queue.scan((entry) => seen.push(...numbersOf([entry])));
    expect(seen).toEqual([1, 3, ...Array.from({ length: 16 }, (_, n) => n + 4)]);
    expect(numbersOf(await readAll(queue))).toEqual(Array.from({ length: 15 }, (_, n) => n + 5));
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: 200 }));
    const again: number[] = [];
    await reopened.scan((entry) => again.push(...numbersOf([entry])));
    expect(again).toEqual(seen);
    expect(reopened.stats().unread).toBe(18);
  });
});

import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { inspectDiskQueue, openDiskQueue } from '../src/disk-queue/index.js';
import { isQueueLockedError } from '../src/errors.js';
import { cliTest as test } from './support/cli-fixtures.js';

const payload = (n: number): Buffer => Buffer.from(`entry-${n}`.padEnd(100, '.'));

describe('inspectDiskQueue (what sluice status reads)', () => {
  test('counts what the open queue counts, while its owner keeps the lock and keeps working', async ({
    dir,
  }) => {
    const queue = await openDiskQueue({ directory: dir, segmentBytes: 1000 });
    try {
      await queue.appendMany(Array.from({ length: 30 }, (_, n) => payload(n)));
      const read = await queue.read(12, Number.POSITIVE_INFINITY);
      await queue.ack(read.slice(0, 10).map((entry) => entry.seq));
      const snapshot = await inspectDiskQueue(dir);
      const stats = queue.stats();
      expect(snapshot).toEqual({
        entries: stats.entries,
        bytes: stats.bytes,
        oldestAppendedAt: stats.oldestAppendedAt,
        corruptSkipped: 0,
      });
      expect(snapshot.entries).toBe(20);
      // The owner still owns the directory and works on.
      await expect(openDiskQueue({ directory: dir })).rejects.toSatisfy(isQueueLockedError);
      await queue.append(payload(30));
      expect((await inspectDiskQueue(dir)).entries).toBe(21);
    } finally {
      await queue.close();
    }
  });

  test('does not count a frame still being written at the end as damage; damage before it counts', async ({
    dir,
  }) => {
    const queue = await openDiskQueue({ directory: dir });
    await queue.appendMany([payload(1), payload(2)]);
    await queue.close();
    const [segment] = (await readdir(dir)).filter((name) => name.endsWith('.seg'));
    // The first 20 bytes of a frame header: what a reader sees while its owner's write is under way.
    await appendFile(join(dir, segment!), Buffer.from('534c5131000000000000000000000000000000aa', 'hex'));
    expect(await inspectDiskQueue(dir)).toMatchObject({ entries: 2, bytes: 200, corruptSkipped: 0 });
    // The owner, opening it, sees a torn tail.
    const reopened = await openDiskQueue({ directory: dir });
    expect(reopened.stats()).toMatchObject({ entries: 2, corruptSkipped: 1 });
    await reopened.close();
  });

  test('a directory that does not exist is an empty queue', async ({ dir }) => {
    expect(await inspectDiskQueue(join(dir, 'nope'))).toEqual({
      entries: 0,
      bytes: 0,
      oldestAppendedAt: undefined,
      corruptSkipped: 0,
    });
  });
});

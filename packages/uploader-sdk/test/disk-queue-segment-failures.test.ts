// Failures while the queue starts a new segment or makes a group commit durable: an append that resolved is
// delivered once, one that was rejected is never delivered (not even after a reopen), and the queue keeps
// working once the failure is over.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, readAll, segmentFiles, tempDirectory, track } from './disk-queue-helpers.js';

/** Faults to inject: each hook runs before the real call and may throw in its place. */
const faults = vi.hoisted(() => ({
  /** Before a segment file is created (`open` with flag `wx`). */
  createSegment: undefined as (() => void) | undefined,
  /** Before the queue directory is fsync'd. */
  syncDirectory: undefined as (() => void) | undefined,
  /** Before a segment file's data is fdatasync'd. */
  syncFileData: undefined as (() => void) | undefined,
  /** Before a segment file is truncated. */
  truncateSegment: undefined as (() => void) | undefined,
  /** Before a segment file is deleted. */
  removeSegment: undefined as (() => void) | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (...args: Parameters<typeof real.open>) => {
    if (!String(args[0]).endsWith('.seg')) return await real.open(...args);
    if (args[1] === 'wx') faults.createSegment?.();
    const handle = await real.open(...args);
    const truncate = handle.truncate.bind(handle);
    handle.truncate = async (length) => {
      faults.truncateSegment?.();
      await truncate(length);
    };
    return handle;
  }) as typeof real.open;
  const unlink = (async (...args: Parameters<typeof real.unlink>) => {
    if (String(args[0]).endsWith('.seg')) faults.removeSegment?.();
    await real.unlink(...args);
  }) as typeof real.unlink;
  return { ...real, default: { ...real, open, unlink }, open, unlink };
});

vi.mock('../src/durable-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/durable-file.js')>();
  return {
    ...real,
    syncDirectory: async (...args: Parameters<typeof real.syncDirectory>) => {
      faults.syncDirectory?.();
      await real.syncDirectory(...args);
    },
    syncFileData: async (...args: Parameters<typeof real.syncFileData>) => {
      faults.syncFileData?.();
      await real.syncFileData(...args);
    },
  };
});

function ioError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/** A hook that throws `code` the first `times` times it runs, then lets the real call through. */
function failing(code: string, times = 1, skip = 0): () => void {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls > skip && calls <= skip + times) throw ioError(code);
  };
}

const PAYLOAD_BYTES = 100;
/** Four frames of `PAYLOAD_BYTES` to a segment. */
const SEGMENT_BYTES = 4 * (28 + PAYLOAD_BYTES);

/** Appends `numbers` as one group commit (one append each, all waiting when the commit starts). */
async function appendGroup(
  queue: Awaited<ReturnType<typeof openDiskQueue>>,
  numbers: readonly number[],
): Promise<{ resolved: number[]; rejected: { n: number; code: unknown }[] }> {
  const outcomes = await Promise.allSettled(numbers.map((n) => queue.append(payloadOf(n, PAYLOAD_BYTES))));
  const resolved: number[] = [];
  const rejected: { n: number; code: unknown }[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') resolved.push(numbers[index]!);
    else rejected.push({ n: numbers[index]!, code: (outcome.reason as NodeJS.ErrnoException).code });
  }
  return { resolved, rejected };
}

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('disk queue when starting a segment or syncing a commit fails', () => {
  afterEach(() => {
    faults.createSegment = undefined;
    faults.syncDirectory = undefined;
    faults.syncFileData = undefined;
    faults.truncateSegment = undefined;
    faults.removeSegment = undefined;
  });

  it.each([
    ['no free inode', () => (faults.createSegment = failing('ENOSPC'))],
    ['too many open files', () => (faults.createSegment = failing('EMFILE'))],
    ['the directory fsync fails', () => (faults.syncDirectory = failing('EIO'))],
  ])(
    'a group commit crossing into a segment that cannot be started (%s) is never delivered',
    async (_, inject) => {
      const directory = await tempDirectory();
      const queue = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
      await queue.appendMany([payloadOf(0, PAYLOAD_BYTES), payloadOf(1, PAYLOAD_BYTES)]);

      inject();
      // Two of these fit in the first segment, the rest need a new one.
      const group = await appendGroup(queue, range(6, 2));
      expect(group.resolved).toEqual([]);
      expect(group.rejected.map(({ n }) => n)).toEqual(range(6, 2));

      // The app retries what was refused; the failure is over.
      const retried = await appendGroup(queue, range(6, 2));
      expect(retried.rejected).toEqual([]);
      const expected = [0, 1, ...range(6, 2)];
      expect(numbersOf(await readAll(queue))).toEqual(expected);
      expect(queue.stats()).toMatchObject({ entries: expected.length, unread: 0 });
      await queue.close();

      const reopened = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
      expect(reopened.stats()).toMatchObject({ entries: expected.length, unread: expected.length });
      expect(numbersOf(await readAll(reopened))).toEqual(expected);
    },
  );

  it('one appendMany split across two segments is delivered whole or not at all', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    await queue.append(payloadOf(0, PAYLOAD_BYTES));
    faults.createSegment = failing('ENOSPC');
    await expect(queue.appendMany(range(5, 1).map((n) => payloadOf(n, PAYLOAD_BYTES)))).rejects.toMatchObject(
      {
        code: 'ENOSPC',
      },
    );
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    expect(numbersOf(await readAll(reopened))).toEqual([0]);
  });

  it('a group commit whose last fdatasync fails is never delivered, in either of its segments', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    await queue.append(payloadOf(0, PAYLOAD_BYTES));
    // The old segment is synced when the commit moves on; the new one's sync at the end fails.
    faults.syncFileData = failing('EIO', 1, 1);
    const group = await appendGroup(queue, range(6, 1));
    expect(group.rejected.map(({ n }) => n)).toEqual(range(6, 1));

    await queue.append(payloadOf(7, PAYLOAD_BYTES));
    expect(numbersOf(await readAll(queue))).toEqual([0, 7]);
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    expect(numbersOf(await readAll(reopened))).toEqual([0, 7]);
  });

  it('when the failed frames cannot be cut out either, the next ledger write keeps them from delivery', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    await queue.appendMany([payloadOf(0, PAYLOAD_BYTES), payloadOf(1, PAYLOAD_BYTES)]);
    faults.createSegment = failing('ENOSPC');
    faults.truncateSegment = failing('EIO');
    const group = await appendGroup(queue, range(6, 2));
    expect(group.resolved).toEqual([]);

    await queue.append(payloadOf(8, PAYLOAD_BYTES));
    const entries = await readAll(queue);
    expect(numbersOf(entries)).toEqual([0, 1, 8]);
    await queue.ack([entries[0]!.seq]);
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: SEGMENT_BYTES }));
    expect(numbersOf(await readAll(reopened))).toEqual([1, 8]);
  });

  it('keeps appending after the directory fsync failed while creating the first segment', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory }));
    faults.syncDirectory = failing('EIO');
    await expect(queue.append(payloadOf(0))).rejects.toMatchObject({ code: 'EIO' });

    const later: string[] = [];
    for (const n of range(5, 1)) {
      later.push(
        await queue.append(payloadOf(n)).then(
          () => 'ok',
          (error: NodeJS.ErrnoException) => error.code ?? String(error),
        ),
      );
    }
    expect(later).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(numbersOf(await readAll(queue))).toEqual(range(5, 1));
    await queue.close();
    expect(await segmentFiles(directory)).toHaveLength(1);

    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual(range(5, 1));
  });

  it('keeps appending when a segment file whose creation failed could not be removed either', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory }));
    faults.syncDirectory = failing('EIO');
    faults.removeSegment = failing('EIO');
    await expect(queue.append(payloadOf(0))).rejects.toBeInstanceOf(AggregateError);

    await queue.append(payloadOf(1));
    await queue.append(payloadOf(2));
    expect(numbersOf(await readAll(queue))).toEqual([1, 2]);
    await queue.close();

    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual([1, 2]);
  });
});

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, readAll, segmentFiles, tempDirectory, track } from './disk-queue-helpers.js';

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

describe('disk queue ack ledger', () => {
  it('deletes no segment while the ledger cannot be written, and every acknowledged one once it can', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory, segmentBytes: 256 }));
    await queue.appendMany(range(40).map((n) => payloadOf(n)));
    const segments = await segmentFiles(directory);
    expect(segments.length).toBeGreaterThan(2);
    const entries = await readAll(queue);

    // A directory where the ledger's file must go makes its atomic rename fail.
    const ledger = join(directory, 'acks.json');
    await mkdir(ledger);
    await writeFile(join(ledger, 'blocker'), '');
    await expect(queue.ack(entries.slice(0, 30).map((entry) => entry.seq))).rejects.toThrow();
    expect(await segmentFiles(directory)).toEqual(segments);

    await rm(ledger, { recursive: true });
    await queue.ack(entries.slice(0, 30).map((entry) => entry.seq));
    expect((await segmentFiles(directory)).length).toBeLessThan(segments.length);
    expect(JSON.parse(await readFile(ledger, 'utf8'))).toMatchObject({ version: 1 });
    await queue.close();

    const reopened = track(await openDiskQueue({ directory, segmentBytes: 256 }));
    expect(numbersOf(await readAll(reopened))).toEqual(range(40).slice(30));
  });

  it('counts each seq once whatever the order, repeats and gaps of one ack, read or not yet read', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory }));
    await queue.appendMany(range(20).map((n) => payloadOf(n)));
    const read = await queue.read(10, Number.POSITIVE_INFINITY);
    const seq = (n: number): number => read[0]!.seq + n;
    // Read ones out of order and repeated, a run, unread ones (10 and up), a repeat of a run's seq, and seqs
    // that were never appended.
    await queue.ack(
      [5, 3, 4, 4, 3, 0, 1, 2, 12, 13, 13, 11, 13, 1, 9999, -1].map((n) => (n < 0 ? n : seq(n))),
    );
    expect(queue.stats()).toMatchObject({ entries: 11, unread: 7 });
    await queue.ack([seq(5), seq(12)]);
    expect(queue.stats()).toMatchObject({ entries: 11, unread: 7 });
    await queue.close();

    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual([6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 19]);
  });
});

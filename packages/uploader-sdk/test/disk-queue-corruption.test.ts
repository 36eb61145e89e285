import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, readAll, segmentFiles, tempDirectory } from './disk-queue-helpers.js';

const RECORDS = 12;
const PAYLOAD_BYTES = 40;
const FRAME_BYTES = 28 + PAYLOAD_BYTES;
const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i);

/** A queue directory holding one segment with RECORDS records; returns the segment's bytes and name. */
async function writtenSegment(): Promise<{ name: string; bytes: Buffer }> {
  const directory = await tempDirectory();
  const queue = await openDiskQueue({ directory });
  await queue.appendMany(range(RECORDS).map((n) => payloadOf(n, PAYLOAD_BYTES)));
  await queue.close();
  const [name] = await segmentFiles(directory);
  return { name: name!, bytes: await readFile(join(directory, name!)) };
}

/** Opens a queue over a directory holding only `segment`, and reads everything. */
async function openOver(directory: string, name: string, segment: Buffer) {
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory);
  await writeFile(join(directory, name), segment);
  const queue = await openDiskQueue({ directory, durability: 'os' });
  const stats = queue.stats();
  const delivered = numbersOf(await readAll(queue));
  return { queue, stats, delivered };
}

describe('disk queue with torn or damaged segments', () => {
  it('opens after a torn tail at every byte offset of the last records and skips only the torn record', async () => {
    const { name, bytes } = await writtenSegment();
    const directory = await tempDirectory();
    const firstOffset = (RECORDS - 3) * FRAME_BYTES;
    for (let length = firstOffset; length <= bytes.length; length += 1) {
      const { queue, stats, delivered } = await openOver(directory, name, bytes.subarray(0, length));
      const whole = Math.floor(length / FRAME_BYTES);
      const torn = length % FRAME_BYTES === 0 ? 0 : 1;
      expect({ length, delivered, corruptSkipped: stats.corruptSkipped, entries: stats.entries }).toEqual({
        length,
        delivered: range(whole),
        corruptSkipped: torn,
        entries: whole,
      });
      await queue.close();
    }
  });

  it('appends after a torn tail into a new segment and delivers both after the next open', async () => {
    const { name, bytes } = await writtenSegment();
    const directory = await tempDirectory();
    const length = (RECORDS - 1) * FRAME_BYTES + 10;
    const { queue } = await openOver(directory, name, bytes.subarray(0, length));
    expect(await queue.append(payloadOf(100, PAYLOAD_BYTES))).toBe(RECORDS);
    await queue.close();
    expect(await segmentFiles(directory)).toHaveLength(2);

    const reopened = await openDiskQueue({ directory });
    expect(reopened.stats().corruptSkipped).toBe(1);
    expect(numbersOf(await readAll(reopened))).toEqual([...range(RECORDS - 1), 100]);
    await reopened.close();
  });

  it('skips exactly the record with a flipped byte, wherever in the record the byte is', async () => {
    const { name, bytes } = await writtenSegment();
    const directory = await tempDirectory();
    for (const record of [0, 5, RECORDS - 1]) {
      for (let byte = 0; byte < FRAME_BYTES; byte += 1) {
        const damaged = Buffer.from(bytes);
        damaged[record * FRAME_BYTES + byte]! ^= 0x5a;
        const { queue, stats, delivered } = await openOver(directory, name, damaged);
        expect({ record, byte, delivered, corruptSkipped: stats.corruptSkipped }).toEqual({
          record,
          byte,
          delivered: range(RECORDS).filter((n) => n !== record),
          corruptSkipped: 1,
        });
        await queue.close();
      }
    }
  });

  it('counts each damaged record when several are damaged', async () => {
    const { name, bytes } = await writtenSegment();
    const directory = await tempDirectory();
    const damaged = Buffer.from(bytes);
    for (const record of [2, 3, 8]) damaged[record * FRAME_BYTES + 30]! ^= 0xff;
    const { queue, stats, delivered } = await openOver(directory, name, damaged);
    expect(stats.corruptSkipped).toBe(3);
    expect(delivered).toEqual(range(RECORDS).filter((n) => ![2, 3, 8].includes(n)));
    await queue.close();
  });

  it('counts records lost at the end of an older segment by the gap to the next segment', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory, segmentBytes: 5 * FRAME_BYTES });
    await queue.appendMany(range(15).map((n) => payloadOf(n, PAYLOAD_BYTES)));
    await queue.close();
    const [first] = await segmentFiles(directory);
    const path = join(directory, first!);
    // The older segment lost its last two records and half of the one before.
    await writeFile(path, (await readFile(path)).subarray(0, 2 * FRAME_BYTES + 20));

    const reopened = await openDiskQueue({ directory });
    expect(reopened.stats().corruptSkipped).toBe(3);
    expect(numbersOf(await readAll(reopened))).toEqual([0, 1, ...range(10, 5)]);
    await reopened.close();
  });

  it('opens over a segment file of garbage and an unreadable ledger', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory });
    await queue.appendMany(range(5).map((n) => payloadOf(n)));
    const [entry] = await queue.read(1, Number.POSITIVE_INFINITY);
    await queue.ack([entry!.seq]);
    await queue.close();
    await writeFile(join(directory, '00000000000000000006.seg'), Buffer.alloc(500, 0x53));
    await writeFile(join(directory, 'acks.json'), '{"version":1,"waterm');

    const reopened = await openDiskQueue({ directory });
    // The ledger is gone, so the acknowledged entry comes back: delivered twice rather than lost.
    expect(numbersOf(await readAll(reopened))).toEqual(range(5));
    expect(reopened.stats().corruptSkipped).toBe(1);
    expect(await reopened.append(payloadOf(5))).toBeGreaterThan(5);
    await reopened.close();
  });
});

import { describe, expect, it } from 'vitest';
import { type DiskQueue, type DiskQueueOptions, openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, segmentFiles, tempDirectory, track } from './disk-queue-helpers.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

interface ModelEntry {
  readonly n: number;
  readonly size: number;
  seq: number;
}

/**
 * Runs random appends, reads, acks and reopens against a queue and a plain in-memory model of what it
 * must hold, comparing what is read and the stats after every step.
 */
async function runAgainstModel(seed: number, options: Omit<DiskQueueOptions, 'directory'>): Promise<void> {
  const next = random(seed);
  const directory = await tempDirectory();
  const dropped: number[] = [];
  const open = async (): Promise<DiskQueue> =>
    track(
      await openDiskQueue({
        directory,
        ...options,
        onDrop: (entries) => void dropped.push(...numbersOf(entries)),
      }),
    );
  let queue = await open();
  let pending: ModelEntry[] = []; // un-acknowledged, oldest first
  let unread = 0; // how many of the newest in `pending` are unread
  let counter = 0;
  let modelDropped = 0;
  const modelDroppedNumbers: number[] = [];
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;

  for (let step = 0; step < 300; step += 1) {
    const operation = next(10);
    if (operation < 4) {
      const sizes = Array.from({ length: 1 + next(12) }, () => 16 + next(200));
      const batchBytes = sizes.reduce((sum, size) => sum + size, 0);
      let bytes = pending.reduce((sum, entry) => sum + entry.size, 0);
      if (options.whenFull === 'drop-oldest') {
        const excess = bytes + batchBytes - maxBytes;
        let freed = 0;
        while (freed < excess && pending.length > 0) {
          const oldest = pending.shift()!;
          if (pending.length < unread) unread -= 1;
          freed += oldest.size;
          bytes -= oldest.size;
          modelDropped += 1;
          modelDroppedNumbers.push(oldest.n);
        }
      }
      const entries = sizes.map((size) => ({ n: counter++, size, seq: 0 }));
      const seqs = await queue.appendMany(entries.map((entry) => payloadOf(entry.n, entry.size)));
      for (const [index, entry] of entries.entries()) entry.seq = seqs[index]!;
      pending.push(...entries);
      unread += entries.length;
    } else if (operation < 7) {
      const maxEntries = 1 + next(30);
      const entries = await queue.read(maxEntries, 1 + next(3000));
      const start = pending.length - unread;
      expect(numbersOf(entries)).toEqual(
        pending.slice(start, start + entries.length).map((entry) => entry.n),
      );
      if (unread > 0) expect(entries.length).toBeGreaterThan(0);
      unread -= entries.length;
    } else if (operation < 9) {
      const inFlight = pending.slice(0, pending.length - unread);
      // Only entries handed out: the bytes of one acknowledged unread are released only when read passes it.
      const chosen = new Set(inFlight.filter(() => next(3) > 0));
      await queue.ack([...chosen].map((entry) => entry.seq));
      pending = pending.filter((entry) => !chosen.has(entry));
    } else {
      await queue.close();
      queue = await open();
      unread = pending.length;
      modelDropped = 0;
    }
    expect({ step, ...queue.stats() }).toMatchObject({
      step,
      entries: pending.length,
      bytes: pending.reduce((sum, entry) => sum + entry.size, 0),
      unread,
      corruptSkipped: 0,
      dropped: modelDropped,
    });
    expect(dropped).toEqual(modelDroppedNumbers);
  }

  await queue.ack(pending.map((entry) => entry.seq));
  const all = await queue.read(1_000_000, Number.POSITIVE_INFINITY);
  await queue.ack(all.map((entry) => entry.seq));
  expect(queue.stats()).toMatchObject({ entries: 0, bytes: 0, unread: 0 });
  expect((await segmentFiles(directory)).length).toBeLessThanOrEqual(1);
}

describe('disk queue against a model', () => {
  for (const seed of [1, 2, 3]) {
    it(`matches the model under random appends, reads, acks and reopens (seed ${seed})`, async () => {
      await runAgainstModel(seed, { segmentBytes: 700, durability: 'os' });
    });
  }

  for (const seed of [4, 5, 6]) {
    it(`matches the model with drop-oldest under a small quota (seed ${seed})`, async () => {
      await runAgainstModel(seed, {
        segmentBytes: 700,
        durability: 'os',
        maxBytes: 2000,
        whenFull: 'drop-oldest',
      });
    });
  }
});

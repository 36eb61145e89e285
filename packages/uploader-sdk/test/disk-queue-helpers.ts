import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { DiskQueue } from '../src/disk-queue/index.js';

const directories: string[] = [];
const queues: DiskQueue[] = [];

afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export async function tempDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-queue-'));
  directories.push(directory);
  return directory;
}

/** Closes `queue` after the test (close is idempotent, so tests may close it themselves). */
export function track<T extends DiskQueue>(queue: T): T {
  queues.push(queue);
  return queue;
}

/** The payload of item `n` of a test: its number as text, padded to `size` bytes. */
export function payloadOf(n: number, size = 16): Buffer {
  return Buffer.from(`item-${n}`.padEnd(size, '.'));
}

/** The numbers back out of payloads made by `payloadOf`. */
export function numbersOf(entries: readonly { payload: Uint8Array }[]): number[] {
  return entries.map((entry) => Number.parseInt(Buffer.from(entry.payload).toString('utf8').slice(5), 10));
}

/** Reads everything unread, in order, in pages. */
export async function readAll(
  queue: DiskQueue,
  page = 1000,
): Promise<{ seq: number; payload: Uint8Array }[]> {
  const all: { seq: number; payload: Uint8Array }[] = [];
  for (;;) {
    const entries = await queue.read(page, Number.POSITIVE_INFINITY);
    if (entries.length === 0) return all;
    all.push(...entries);
  }
}

/** Names of the segment files in `directory`, sorted. */
export async function segmentFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.seg')).sort();
}

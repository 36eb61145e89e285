import { MANIFEST_FIELD } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { Batcher, type BatchSource, batchBodyBytes, splitIntoBatches } from '../src/batcher.js';
import { groupBlobs } from '../src/blob-adapter.js';
import type { QueueEntry } from '../src/disk-queue/types.js';
import { recordsBody } from '../src/transport.js';

function entries(count: number, size: number, firstSeq = 0): QueueEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: firstSeq + i,
    payload: new Uint8Array(size).fill(0x31),
  }));
}

/** An in-memory FIFO with the disk queue's read contract, for timing the batcher alone. */
class MemorySource implements BatchSource {
  readonly items: QueueEntry[] = [];
  #waiters: (() => void)[] = [];
  push(more: QueueEntry[]): void {
    this.items.push(...more);
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async read(maxEntries: number): Promise<QueueEntry[]> {
    return this.items.splice(0, maxEntries);
  }
  waitForUnread(signal?: AbortSignal): Promise<void> {
    if (this.items.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  stats() {
    return { unread: this.items.length };
  }
}

describe('splitIntoBatches', () => {
  it('closes a batch at the item count', () => {
    const batches = splitIntoBatches(entries(25, 10), { maxItems: 10, maxBytes: 1_000_000 });
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((entry) => entry.seq)).toEqual(entries(25, 10).map((entry) => entry.seq));
  });

  it('keeps every batch body within the byte limit, measured on the real body', () => {
    const maxBytes = 1000;
    const batches = splitIntoBatches(entries(100, 95), { maxItems: 1000, maxBytes });
    for (const batch of batches) {
      const body = recordsBody(batch.map((entry) => entry.payload));
      expect(body.byteLength).toBeLessThanOrEqual(maxBytes);
      expect(body.byteLength).toBe(batchBodyBytes(batch.map((entry) => entry.payload.byteLength)));
    }
    // 9 items of 95 bytes + 8 commas + 12 bytes of envelope = 875; a 10th would make 971 (fits), 11th 1067.
    expect(batches[0]).toHaveLength(10);
    expect(batches.flat()).toHaveLength(100);
  });

  it('sends an item larger than the limit alone rather than dropping it', () => {
    const mixed = [...entries(2, 10), ...entries(1, 5000, 2), ...entries(2, 10, 3)];
    const batches = splitIntoBatches(mixed, { maxItems: 100, maxBytes: 1000 });
    expect(batches.map((batch) => batch.map((entry) => entry.seq))).toEqual([[0, 1], [2], [3, 4]]);
  });
});

describe('Batcher', () => {
  it('closes a partial batch after the delay', async () => {
    const source = new MemorySource();
    const batcher = new Batcher(source, { maxItems: 100, maxBytes: 1_000_000 }, 120);
    source.push(entries(3, 10));
    const started = performance.now();
    const batches = await batcher.next();
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(batches.map((batch) => batch.length)).toEqual([3]);
  });

  it('closes at once when the item count is reached while waiting', async () => {
    const source = new MemorySource();
    const batcher = new Batcher(source, { maxItems: 10, maxBytes: 1_000_000 }, 10_000);
    source.push(entries(4, 10));
    const next = batcher.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    source.push(entries(6, 10, 4));
    batcher.appended(60);
    const started = performance.now();
    const batches = await next;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(batches.flat()).toHaveLength(10);
  });

  it('closes at once when enough bytes were appended', async () => {
    const source = new MemorySource();
    const batcher = new Batcher(source, { maxItems: 1000, maxBytes: 500 }, 10_000);
    source.push(entries(1, 100));
    const next = batcher.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    source.push(entries(5, 100, 1));
    batcher.appended(600);
    const batches = await next;
    expect(batches.flat().length).toBeGreaterThan(1);
  });

  it('does not wait for the timer during a flush', async () => {
    const source = new MemorySource();
    const batcher = new Batcher(source, { maxItems: 100, maxBytes: 1_000_000 }, 10_000);
    source.push(entries(2, 10));
    const end = batcher.beginFlush();
    const started = performance.now();
    await batcher.next();
    end();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('returns nothing once its signal aborts', async () => {
    const source = new MemorySource();
    const batcher = new Batcher(source, { maxItems: 100, maxBytes: 1_000_000 }, 50);
    const controller = new AbortController();
    const next = batcher.next(controller.signal);
    controller.abort();
    expect(await next).toEqual([]);
  });
});

describe('groupBlobs', () => {
  const blob = (size: number) => ({
    manifest: { id: `b${size}`, type: 't', ts: 0, contentType: 'a/b', size, sha256: '0'.repeat(64) },
  });

  it('keeps requests within the per-request count and byte limits, in order, a huge blob alone', () => {
    const items = [blob(100), blob(200), blob(300), blob(50_000), blob(10), blob(20), blob(30)];
    const groups = groupBlobs(items, { maxBlobsPerRequest: 2, maxBlobRequestBytes: 10_000 });
    expect(groups.map((group) => group.map((item) => item.manifest.size))).toEqual([
      [100, 200],
      [300],
      [50_000],
      [10, 20],
      [30],
    ]);
  });

  it('keeps every request, as sent, within maxBlobRequestBytes when its fields are at their longest', async () => {
    const longest = (n: number) => ({
      manifest: {
        id: `${'i'.repeat(125)}${String(n).padStart(3, '0')}`,
        type: '\u{1F600}'.repeat(128),
        ts: Number.MAX_SAFE_INTEGER,
        contentType: `a/b;${'"'.repeat(251)}`,
        size: 1000,
        sha256: '0'.repeat(64),
        meta: { note: '\u{1F600}'.repeat(200) },
      },
    });
    const items = Array.from({ length: 40 }, (_, n) => longest(n));
    const limits = { maxBlobsPerRequest: 100, maxBlobRequestBytes: 20_000 };
    const groups = groupBlobs(items, limits);
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) {
      // Built as the transport builds it: the manifest field, then one file part per blob.
      const form = new FormData();
      form.append(MANIFEST_FIELD, JSON.stringify({ items: group.map((item) => item.manifest) }));
      for (const { manifest } of group) {
        form.append(
          manifest.id,
          new Blob([new Uint8Array(manifest.size)], { type: manifest.contentType }),
          manifest.id,
        );
      }
      const sent = (await new Response(form).arrayBuffer()).byteLength;
      expect(sent).toBeLessThanOrEqual(limits.maxBlobRequestBytes);
    }
  });
});

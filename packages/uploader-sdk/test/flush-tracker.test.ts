import { describe, expect, it } from 'vitest';
import type { QueueEntry } from '../src/disk-queue/types.js';
import { FlushTracker, flushResult, type LaneFlushOutcome } from '../src/flush-tracker.js';

/** A FIFO in memory with the parts of a disk queue the tracker uses. */
class MemoryQueue {
  readonly entries: QueueEntry[] = [];
  #nextSeq = 0;
  #readUpTo = 0;

  append(count = 1): number {
    for (let i = 0; i < count; i += 1)
      this.entries.push({ seq: this.#nextSeq++, payload: new Uint8Array(1) });
    return this.#nextSeq - 1;
  }

  ack(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const index = this.entries.findIndex((entry) => entry.seq === seq);
      if (index < this.#readUpTo) this.#readUpTo -= 1;
      this.entries.splice(index, 1);
    }
  }

  stats() {
    return { entries: this.entries.length, unread: this.entries.length - this.#readUpTo };
  }

  async read(maxEntries: number): Promise<QueueEntry[]> {
    const read = this.entries.slice(this.#readUpTo, this.#readUpTo + maxEntries);
    this.#readUpTo += read.length;
    return read;
  }

  async waitForUnread(): Promise<void> {}
}

/** A tracker started on a queue holding `backlog` entries, with the queue read through it. */
function setup(backlog = 0) {
  const queue = new MemoryQueue();
  queue.append(backlog);
  const flushes = new FlushTracker();
  const source = flushes.source(queue as never);
  flushes.start(queue as never);
  const settle = (entries: readonly QueueEntry[]): void => {
    queue.ack(entries.map((entry) => entry.seq));
    flushes.settle(entries.map((entry) => entry.seq));
  };
  return { queue, flushes, source, settle };
}

/** The outcome of `promise` if it settled by now, else `pending`. */
async function state(promise: Promise<LaneFlushOutcome>): Promise<LaneFlushOutcome | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('flush bookkeeping', () => {
  it('completes at once when nothing is queued', async () => {
    const { flushes } = setup();
    expect(await flushes.wait(undefined)).toBe('complete');
  });

  it('waits for the backlog found at start, read or not, until every entry of it settled', async () => {
    const { flushes, source, settle } = setup(3);
    const flush = flushes.wait(undefined);
    const first = await source.read(2, 1024);
    expect(await state(flush)).toBe('pending');
    settle(first);
    expect(await state(flush)).toBe('pending');
    settle(await source.read(10, 1024));
    expect(await state(flush)).toBe('complete');
  });

  it('waits for entries appended before the call, not for those appended after', async () => {
    const { queue, flushes, source, settle } = setup();
    const last = queue.append(2);
    const flush = flushes.wait(last);
    queue.append(5);
    const read = await source.read(2, 1024);
    expect(await state(flush)).toBe('pending');
    settle(read);
    expect(await state(flush)).toBe('complete');
    expect(queue.stats().entries).toBe(5);
  });

  it('counts entries dropped to make room (drop-oldest) as passed', async () => {
    const { queue, flushes } = setup(2);
    const last = queue.append(1);
    const flush = flushes.wait(last);
    const dropped = queue.entries.slice(0, 3);
    flushes.dropped(dropped);
    expect(await state(flush)).toBe('complete');
  });

  it('resolves with timeout when the signal aborts, and with closed on close; never rejects', async () => {
    const { flushes } = setup(1);
    const deadline = new AbortController();
    const timed = flushes.wait(undefined, deadline.signal);
    const open = flushes.wait(undefined);
    deadline.abort();
    expect(await timed).toBe('timeout');
    expect(await state(open)).toBe('pending');
    flushes.close();
    expect(await open).toBe('closed');
    expect(await flushes.wait(undefined, AbortSignal.abort())).toBe('timeout');
  });

  it.each([
    [['complete', 'complete'], { complete: true, timedOut: false, closed: false }],
    [['complete', 'timeout'], { complete: false, timedOut: true, closed: false }],
    [['closed', 'timeout'], { complete: false, timedOut: false, closed: true }],
  ] as const)('a flush whose lanes ended %j resolves with %j', (outcomes, flags) => {
    const result = flushResult(outcomes, { delivered: 10, dead: 1 }, { delivered: 25, dead: 3 }, 4);
    expect(result).toEqual({ ...flags, delivered: 15, dead: 2, queued: 4 });
  });
});

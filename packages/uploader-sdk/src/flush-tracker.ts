import type { BatchSource } from './batcher.js';
import type { DiskQueue, QueueEntry } from './disk-queue/types.js';

/**
 * How a lane's flush ended: everything it waited for settled, the lane stopped (`close()`), or the
 * caller's signal aborted first.
 */
export type LaneFlushOutcome = 'complete' | 'closed' | 'timeout';

/** Options of {@link Uploader.flush}. */
export interface FlushOptions {
  /**
   * Stop waiting after this many ms and resolve with `timedOut: true` (nothing is given up: the items stay
   * queued and keep being sent). At most 2_147_483_647.
   * @default undefined (wait as long as it takes)
   */
  readonly timeoutMs?: number;
}

/** What a `flush()` achieved. */
export interface FlushResult {
  /** Everything enqueued before the call was delivered or dead-lettered. */
  readonly complete: boolean;
  /** `timeoutMs` passed first. */
  readonly timedOut: boolean;
  /** `close()` ended the flush first. */
  readonly closed: boolean;
  /** Items acknowledged by the server while the flush was pending (stored or duplicate). */
  readonly delivered: number;
  /** Items dead-lettered while the flush was pending. */
  readonly dead: number;
  /** Items still queued on disk when it resolved (`stats().queued`); they are sent later or after a restart. */
  readonly queued: number;
}

/** Counters of items settled so far, read before and after a flush. */
export interface SettledCounts {
  readonly delivered: number;
  readonly dead: number;
}

/** What a flush achieved, from its lanes' outcomes and the settled counts before and after it. Pure. */
export function flushResult(
  outcomes: readonly LaneFlushOutcome[],
  before: SettledCounts,
  after: SettledCounts,
  queued: number,
): FlushResult {
  const complete = outcomes.every((outcome) => outcome === 'complete');
  const closed = outcomes.includes('closed');
  return {
    complete,
    timedOut: !complete && !closed,
    closed,
    delivered: after.delivered - before.delivered,
    dead: after.dead - before.dead,
    queued,
  };
}

interface FlushWaiter {
  /** Every entry up to this seq must be settled; `undefined` when nothing was appended in this process. */
  readonly seq: number | undefined;
  readonly resolve: (outcome: LaneFlushOutcome) => void;
}

/**
 * Which of a queue's entries a pending flush still waits for. The queue is FIFO by seq, so "everything
 * enqueued before the flush" is the backlog found at start (the first entries read, by read index) plus
 * every seq up to the last one appended before the call. Dropped entries (drop-oldest) go oldest first, so
 * they count as passed.
 */
export class FlushTracker {
  #queue: Pick<DiskQueue, 'stats'> | undefined;
  #backlog = 0;
  #readCount = 0;
  #droppedUnread = 0;
  #passedSeq = Number.NEGATIVE_INFINITY;
  /** Read but not yet acknowledged or dead-lettered: seq → read index. */
  readonly #unsettled = new Map<number, number>();
  readonly #waiters = new Set<FlushWaiter>();

  /** `queue` as a batch source whose reads are counted here; read the queue only through this. */
  source(queue: Pick<DiskQueue, 'stats' | 'read' | 'waitForUnread'>): BatchSource {
    return {
      stats: () => queue.stats(),
      waitForUnread: (signal) => queue.waitForUnread(signal),
      read: async (maxEntries, maxBytes) => this.#read(await queue.read(maxEntries, maxBytes)),
    };
  }

  /** Takes what `queue` holds unread now as the backlog every flush waits for. */
  start(queue: Pick<DiskQueue, 'stats'>): void {
    this.#queue = queue;
    this.#backlog = queue.stats().unread;
  }

  /** Entries the queue dropped to make room (`whenFull: 'drop-oldest'`). */
  dropped(entries: readonly QueueEntry[]): void {
    for (const entry of entries) {
      if (this.#unsettled.has(entry.seq)) this.#unsettled.delete(entry.seq);
      else if (entry.seq > this.#passedSeq) {
        this.#droppedUnread += 1;
        this.#passedSeq = entry.seq;
      }
    }
    this.check();
  }

  /** Items acknowledged or dead-lettered. */
  settle(seqs: Iterable<number>): void {
    for (const seq of seqs) this.#unsettled.delete(seq);
    this.check();
  }

  /**
   * Resolves with `complete` once the backlog and every entry up to `lastAppendedSeq` (the newest seq whose
   * append resolved before the flush) are settled, with `timeout` when `signal` aborts first, with `closed`
   * from {@link close}. Never rejects.
   */
  wait(lastAppendedSeq: number | undefined, signal?: AbortSignal): Promise<LaneFlushOutcome> {
    if (this.#flushedThrough(lastAppendedSeq)) return Promise.resolve('complete');
    if (signal?.aborted) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const onAbort = (): void => {
        if (this.#waiters.delete(waiter)) resolve('timeout');
      };
      const waiter: FlushWaiter = {
        seq: lastAppendedSeq,
        resolve: (outcome) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Resolves the flushes whose entries all settled. */
  check(): void {
    for (const waiter of this.#waiters) {
      if (this.#flushedThrough(waiter.seq)) {
        this.#waiters.delete(waiter);
        waiter.resolve('complete');
      }
    }
  }

  /** Resolves every pending flush with `closed`. */
  close(): void {
    for (const waiter of this.#waiters) waiter.resolve('closed');
    this.#waiters.clear();
  }

  #read(entries: QueueEntry[]): QueueEntry[] {
    for (const entry of entries) {
      this.#unsettled.set(entry.seq, this.#readCount);
      this.#readCount += 1;
      if (entry.seq > this.#passedSeq) this.#passedSeq = entry.seq;
    }
    return entries;
  }

  #flushedThrough(seq: number | undefined): boolean {
    if (this.#unsettled.size === 0 && this.#queue?.stats().entries === 0) return true;
    if (this.#readCount + this.#droppedUnread < this.#backlog) return false;
    if (seq !== undefined && this.#passedSeq < seq) return false;
    for (const [unsettledSeq, index] of this.#unsettled) {
      if (index < this.#backlog || (seq !== undefined && unsettledSeq <= seq)) return false;
    }
    return true;
  }
}

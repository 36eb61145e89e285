import type { QueueEntry } from './disk-queue/types.js';

/** Where a batch may close. */
export interface BatchLimits {
  /** Most items in one batch. */
  readonly maxItems: number;
  /** Most bytes of one batch's JSON body (`{"items":[…]}`); a single larger item travels alone. */
  readonly maxBytes: number;
}

/** The part of a disk queue the batcher reads from. */
export interface BatchSource {
  read(maxEntries: number, maxBytes: number): Promise<QueueEntry[]>;
  waitForUnread(signal?: AbortSignal): Promise<void>;
  stats(): { readonly unread: number };
}

const ENVELOPE_BYTES = '{"items":[]}'.length;

/** Bytes of the JSON body `{"items":[p1,p2,…]}` built from serialized items of these sizes. */
export function batchBodyBytes(itemSizes: readonly number[]): number {
  let total = ENVELOPE_BYTES + Math.max(0, itemSizes.length - 1);
  for (const size of itemSizes) total += size;
  return total;
}

/**
 * Cuts entries, in order, into batches of at most `maxItems` items and `maxBytes` body bytes. An entry
 * that alone exceeds `maxBytes` gets a batch of its own (the server decides; a lone item is never split).
 */
export function splitIntoBatches(entries: readonly QueueEntry[], limits: BatchLimits): QueueEntry[][] {
  const batches: QueueEntry[][] = [];
  let current: QueueEntry[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const entry of entries) {
    const added = entry.payload.byteLength + (current.length === 0 ? 0 : 1);
    if (current.length > 0 && (current.length >= limits.maxItems || bytes + added > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += entry.payload.byteLength + (current.length === 0 ? 0 : 1);
    current.push(entry);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Reads batches from a queue: a batch closes when `maxItems` are waiting, when about `maxBytes` were
 * appended since the last read, when `maxDelayMs` passed since the batch started waiting, or at once
 * while a flush is pending.
 */
export class Batcher {
  #appendedBytes = 0;
  #flushing = 0;
  #wake: (() => void) | undefined;

  constructor(
    private readonly source: BatchSource,
    private limits: BatchLimits,
    private readonly maxDelayMs: number,
  ) {}

  /** Changes the limits for the next batches (e.g. after the server published lower ones). */
  setLimits(limits: BatchLimits): void {
    this.limits = limits;
  }

  /** The current limits. */
  get currentLimits(): BatchLimits {
    return this.limits;
  }

  /** Tells the batcher that `bytes` of new entries were appended (may close the pending batch early). */
  appended(bytes: number): void {
    this.#appendedBytes += bytes;
    if (this.#full()) this.#wake?.();
  }

  /** Closes batches without waiting for the timer until the returned function is called. */
  beginFlush(): () => void {
    this.#flushing += 1;
    this.#wake?.();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#flushing -= 1;
    };
  }

  /**
   * Waits for the next batch and returns it cut to the limits (usually one batch; several when the read
   * entries exceed the byte limit). Returns `[]` when the queue closed or `signal` aborted.
   */
  async next(signal?: AbortSignal): Promise<QueueEntry[][]> {
    await this.source.waitForUnread(signal);
    if (signal?.aborted || this.source.stats().unread === 0) return [];
    if (!this.#full() && this.#flushing === 0 && this.maxDelayMs > 0) await this.#waitForFullOrTimer(signal);
    if (signal?.aborted) return [];
    const entries = await this.source.read(this.limits.maxItems, this.limits.maxBytes);
    let read = 0;
    for (const entry of entries) read += entry.payload.byteLength;
    this.#appendedBytes = Math.max(0, this.#appendedBytes - read);
    return splitIntoBatches(entries, this.limits);
  }

  #full(): boolean {
    return this.source.stats().unread >= this.limits.maxItems || this.#appendedBytes >= this.limits.maxBytes;
  }

  /**
   * Resolves after `maxDelayMs`, or earlier when woken (full, flush) or when `signal` aborts; the caller
   * checks the signal. Plain callbacks: waking through an AbortController made two AbortErrors (with their
   * stacks) per batch under load.
   */
  #waitForFullOrTimer(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      // Unref'd like every timer of an idle uploader: what is enqueued is durable, and a script that never
      // flushes must not be held until the batch closes (flush() holds the process itself).
      const timer = setTimeout(done, this.maxDelayMs);
      timer.unref();
      this.#wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

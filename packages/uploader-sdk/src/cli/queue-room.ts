import { isQueueFullError } from '../errors.js';

/**
 * Lets enqueues that found the queue full (`QueueFullError`) wait until queued items settle (delivered
 * or dead-lettered, which frees their space) and try again, so `sluice send` can queue more than the
 * quota holds. Call `wake` whenever items settle and `close` when the run stops.
 */
export class QueueRoom {
  readonly #queued: () => number;
  readonly #waiting = new Set<() => void>();
  /** Bumped by every `wake`, so an enqueue can tell that items settled while it was failing. */
  #generation = 0;
  #closed = false;

  /** `queued`: how many items are queued now (`stats().queued`). */
  constructor(queued: () => number) {
    this.#queued = queued;
  }

  /** Items settled: every waiting enqueue tries again. */
  wake(): void {
    this.#generation += 1;
    for (const resolve of this.#waiting) resolve();
    this.#waiting.clear();
  }

  /** The run stopped: waiting enqueues resolve `undefined`, and later ones do not run. */
  close(): void {
    this.#closed = true;
    this.wake();
  }

  /**
   * Runs `enqueue`, again each time items settled after it found the queue full; `onFull` is called
   * before each wait. Resolves `undefined` once closed.
   * @throws {QueueFullError} when the queue was empty and still had no room: the item is larger than
   * the quota. Other errors of `enqueue` as they are.
   */
  async enqueue<T>(enqueue: () => Promise<T>, onFull?: () => void): Promise<T | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const generation = this.#generation;
      const queuedBefore = this.#queued();
      try {
        return await enqueue();
      } catch (error) {
        if (!isQueueFullError(error)) throw error;
        if (this.#generation !== generation) continue;
        if (queuedBefore === 0 && this.#queued() === 0) throw error;
        onFull?.();
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
      }
    }
  }
}

import PQueue from 'p-queue';
import { type BackoffGate, backoffDelay, isWaitAbortedError, sleep } from './backoff.js';
import type { BatchSource } from './batcher.js';
import type { AdaptiveConcurrency } from './concurrency.js';
import type { DiskQueue } from './disk-queue/types.js';
import { AuthenticationError, EndpointError, QueueWriteError, type QueueWriteOperation } from './errors.js';
import type { DeadEvent, DeliveredEvent, ItemKind, RetryEvent } from './events.js';
import type { FlushTracker, LaneFlushOutcome } from './flush-tracker.js';
import type { DeadItem, LaneItem } from './lane-item.js';
import { planRequest, type RequestPlan } from './request-plan.js';
import type { TransportResult } from './transport.js';

/** What differs between records and blobs. */
export interface LaneAdapter<T extends LaneItem> {
  readonly kind: ItemKind;
  /** Waits for and reads the next batches from `source`; `[]` when the source closed or `signal` aborted. */
  next(source: BatchSource, signal: AbortSignal): Promise<T[][]>;
  /** Items of `batch` that can never be sent (e.g. a blob whose copy vanished). */
  unsendable(batch: readonly T[]): Promise<DeadItem<T>[]>;
  /** Sends one request. */
  send(batch: readonly T[], signal: AbortSignal): Promise<TransportResult>;
  /** Persists dead items with their reason (before they are acknowledged). */
  deadLetter(items: readonly DeadItem<T>[]): Promise<void>;
  /** Acknowledges items in the queue (and frees what they hold). */
  ack(items: readonly T[]): Promise<void>;
}

/** What the lane reports to the uploader. */
export interface LaneHooks {
  /** Whether anything listens to `delivered`: an event nobody hears is not built (an object per item). */
  readonly hearsDelivered: () => boolean;
  delivered(event: DeliveredEvent): void;
  dead(event: DeadEvent): void;
  retry(event: RetryEvent): void;
  error(error: Error): void;
  /** Called after items settled or the lane went idle, to check for `drained`. */
  settled(): void;
  /** A request was refused as too large (413): the server's limits may have changed. */
  tooLarge(): void;
}

/** How a lane runs. */
export interface LaneOptions<T extends LaneItem> {
  readonly adapter: LaneAdapter<T>;
  readonly queue: DiskQueue;
  /** The queue's flush bookkeeping; the lane reads the queue only through its counted source. */
  readonly flushes: FlushTracker;
  /** Backoff shared by the lane's requests. */
  readonly gate: BackoffGate;
  /** Pause shared by every lane while the API key is refused. */
  readonly authGate: BackoffGate;
  readonly authRetryMs: number;
  /** Adaptive limit (records), or a fixed number of concurrent requests (blobs). */
  readonly concurrency: AdaptiveConcurrency | number;
  /** Most batches read from the queue and not yet settled; bounds memory. */
  readonly maxPendingBatches: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly hooks: LaneHooks;
  /** Aborts when the uploader closes: stops reading, waiting and scheduling. */
  readonly signal: AbortSignal;
  /** Aborts requests already on the wire; later than `signal`, so a closing uploader lets them finish. */
  readonly sendSignal: AbortSignal;
}

/** Counters of one lane. */
export interface LaneCounters {
  delivered: number;
  duplicates: number;
  dead: number;
  retries: number;
  inFlight: number;
  /** Items the server answered whose acknowledgement is not on disk yet (a write failed; it is retried). */
  unwritten: number;
}

/**
 * Moves items from a disk queue to the server: reads batches (bounded by `maxPendingBatches`), sends them on
 * a p-queue under the shared backoff and auth pause, and carries out what {@link planRequest} decided for
 * every answer: ack, dead-letter, retry, split or pause. Nothing leaves the disk queue before it is
 * acknowledged or persisted as a dead letter.
 */
export class DeliveryLane<T extends LaneItem> {
  readonly counters: LaneCounters = {
    delivered: 0,
    duplicates: 0,
    dead: 0,
    retries: 0,
    inFlight: 0,
    unwritten: 0,
  };
  readonly #options: LaneOptions<T>;
  readonly #requests: PQueue;
  readonly #tasks = new Set<Promise<void>>();
  readonly #source: BatchSource;
  #pendingBatches = 0;
  /** Blob batches waiting on their own retry timer: they give their slot back meanwhile. */
  #sleepingBatches = 0;
  #slotFreed: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Deployment problems already reported since the last successful request. */
  readonly #reportedProblems = new Set<string>();
  /** Failing local writes already reported since the last one that succeeded. */
  readonly #reportedWriteProblems = new Set<string>();

  constructor(options: LaneOptions<T>) {
    this.#options = options;
    const { concurrency } = options;
    this.#requests = new PQueue({
      concurrency: typeof concurrency === 'number' ? concurrency : concurrency.limit,
    });
    this.#source = options.flushes.source(options.queue);
  }

  /** Current request concurrency. */
  get concurrency(): number {
    return this.#requests.concurrency;
  }

  /** True when nothing is pending in memory and nothing is unread on disk. */
  get idle(): boolean {
    return (
      this.#pendingBatches === 0 && this.#sleepingBatches === 0 && this.#options.queue.stats().unread === 0
    );
  }

  /** Starts the read loop. */
  start(): void {
    this.#options.flushes.start(this.#options.queue);
    this.#loop = this.#readLoop();
  }

  /**
   * Resolves with `complete` once the backlog found at open and every entry up to `lastAppendedSeq` (the
   * newest seq whose append resolved before the flush) are delivered or dead-lettered; with `closed` when
   * the lane stops first, with `timeout` when `signal` aborts first. Never rejects.
   */
  flush(lastAppendedSeq: number | undefined, signal?: AbortSignal): Promise<LaneFlushOutcome> {
    if (this.#options.signal.aborted) return Promise.resolve('closed');
    return this.#options.flushes.wait(lastAppendedSeq, signal);
  }

  /** Waits for the read loop and the requests to stop (after the shared signal aborted). */
  async stop(): Promise<void> {
    this.#slotFreed?.();
    // Requests not yet started return at once; those on the wire end with their answer or `sendSignal`.
    await this.#loop;
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
    await this.#requests.onIdle();
    // A pending flush ends with what it achieved: rejecting it would crash the usual shutdown pattern of a
    // signal handler calling close() while the main code awaits flush().
    this.#options.flushes.close();
  }

  async #readLoop(): Promise<void> {
    const { signal, adapter } = this.#options;
    while (!signal.aborted) {
      if (this.#pendingBatches >= this.#options.maxPendingBatches) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        this.#slotFreed = undefined;
        continue;
      }
      try {
        const batches = await adapter.next(this.#source, signal);
        for (const batch of batches) {
          this.#pendingBatches += 1;
          this.#schedule(batch, 0);
        }
        if (batches.length === 0) this.#options.flushes.check();
      } catch (error) {
        if (signal.aborted) return;
        this.#options.hooks.error(asError(error));
        // A failing disk read is retried slowly rather than in a tight loop.
        await sleep(this.#options.backoff.maxMs, signal).catch(ignoreAbort);
      }
    }
  }

  #track(promise: Promise<void>): void {
    this.#tasks.add(promise);
    void promise.finally(() => this.#tasks.delete(promise));
  }

  #schedule(batch: readonly T[], attempt: number): void {
    if (this.#options.signal.aborted) return;
    // No signal for p-queue: on abort it would settle `add` at once while the request runs on untracked,
    // and its late outcome (an ack on a closed queue) would surface after close() resolved. `#deliver`
    // returns at once for a request that had not started.
    this.#track(
      this.#requests
        .add(() => this.#deliver(batch, attempt))
        .catch((error: unknown) => {
          if (this.#options.signal.aborted) return;
          // An unexpected local failure (e.g. a disk error while preparing the request): report it and try
          // the same items again later, so nothing is lost and a flush does not wait forever.
          this.#options.hooks.error(asError(error));
          this.#retryLater(
            batch,
            attempt + 1,
            backoffDelay(attempt, this.#options.backoff),
            'CLIENT_ERROR',
            true,
          );
        }),
    );
  }

  async #deliver(batch: readonly T[], attempt: number): Promise<void> {
    const { gate, authGate, signal } = this.#options;
    if (signal.aborted) return;
    try {
      // A pause may begin while waiting for the backoff; then wait for the pause again rather than send
      // with a key just refused.
      for (;;) {
        await authGate.wait(signal);
        await gate.wait(signal);
        if (!authGate.paused) break;
        gate.endProbe();
      }
    } catch (error) {
      if (isWaitAbortedError(error)) return;
      throw error;
    }
    try {
      await this.#send(batch, attempt);
    } finally {
      gate.endProbe();
    }
  }

  async #send(batch: readonly T[], attempt: number): Promise<void> {
    const { gate, authGate, sendSignal, adapter } = this.#options;
    const unsendable = await adapter.unsendable(batch);
    let items = batch;
    if (unsendable.length > 0) {
      if (!(await this.#deadLetter(unsendable))) return;
      const gone = new Set(unsendable.map((dead) => dead.item.seq));
      items = batch.filter((item) => !gone.has(item.seq));
      if (items.length === 0) return this.#batchDone();
    }
    const startedAt = Date.now();
    this.counters.inFlight += items.length;
    let result: TransportResult;
    try {
      result = await adapter.send(items, sendSignal);
    } catch (error) {
      if (sendSignal.aborted) return;
      throw error;
    } finally {
      this.counters.inFlight -= items.length;
    }
    const plan = planRequest({ kind: adapter.kind, items, result });
    this.#feedConcurrency(startedAt, result, plan);
    if (plan.tooLarge) this.#options.hooks.tooLarge();
    switch (plan.action) {
      case 'per-item':
        gate.success();
        authGate.success();
        this.#reportedProblems.clear();
        return this.#perItem(plan, attempt);
      case 'retry': {
        this.#reportProblem(plan.problem, result);
        const delayMs = gate.failure(startedAt, plan.afterMs);
        this.#retryLater(items, attempt + 1, delayMs, plan.reason, false);
        return;
      }
      case 'retry-items':
        this.#retryLater(items, attempt + 1, backoffDelay(attempt, this.#options.backoff), plan.reason, true);
        return;
      case 'split':
        this.#pendingBatches += plan.pieces.length - 1;
        for (const piece of plan.pieces) this.#schedule(piece, attempt);
        return;
      case 'pause': {
        if (result.keyReplaced === true) {
          // The refusal answers a key that setApiKey() has replaced since: it says nothing of the current
          // key, so the items go again at once with it (a refusal of that one pauses then).
          this.#retryLater(items, attempt, 0, plan.reason, false);
          return;
        }
        const wasPaused = authGate.paused;
        authGate.pause(this.#options.authRetryMs);
        if (!wasPaused) {
          const status = result.status ?? 401;
          // The API's own refusal carries its code; any other body is something in front of it.
          const fromApi = result.code !== undefined;
          const paused = `sending is paused and all data is kept until setApiKey() or the next probe in ${this.#options.authRetryMs} ms`;
          this.#options.hooks.error(
            new AuthenticationError(
              status,
              fromApi
                ? `the server refused the API key (${plan.reason}); ${paused}`
                : `HTTP ${status} for ${result.method} ${result.url} came from something that is not the Sluice ingest API (a proxy or gateway refusing the request?); ${paused}`,
              { cause: result.error },
              fromApi,
            ),
          );
        }
        this.#retryLater(items, attempt, authGate.remainingMs(), plan.reason, false);
        return;
      }
      case 'dead-letter':
        if (!(await this.#deadLetter(plan.dead))) return;
        return this.#batchDone();
    }
  }

  /** Tells the user, once per cause until a request succeeds, that the endpoint looks misconfigured. */
  #reportProblem(hint: string | undefined, result: TransportResult): void {
    if (hint === undefined || result.status === undefined) return;
    const key = `${result.status} ${result.code ?? ''} ${hint}`;
    if (this.#reportedProblems.has(key)) return;
    this.#reportedProblems.add(key);
    this.#options.hooks.error(
      new EndpointError(result.status, result.method, result.url, result.code, hint, { cause: result.error }),
    );
  }

  #feedConcurrency(startedAt: number, result: TransportResult, plan: RequestPlan<T>): void {
    const { concurrency } = this.#options;
    if (typeof concurrency === 'number') return;
    const limit = concurrency.record({ startedAt, latencyMs: result.latencyMs, overloaded: plan.overloaded });
    if (limit !== this.#requests.concurrency) this.#requests.concurrency = limit;
  }

  async #perItem(plan: Extract<RequestPlan<T>, { action: 'per-item' }>, attempt: number): Promise<void> {
    const { ack, dead, retry } = plan;
    if (ack.length > 0) {
      if (!(await this.#ack(ack.map((entry) => entry.item)))) return;
      for (const entry of ack) {
        this.counters.delivered += 1;
        if (entry.status === 'duplicate') this.counters.duplicates += 1;
      }
      const { hooks } = this.#options;
      if (hooks.hearsDelivered()) {
        hooks.delivered({
          kind: this.#options.adapter.kind,
          items: ack.map((entry) => ({ id: entry.item.id, status: entry.status })),
        });
      }
    }
    if (dead.length > 0 && !(await this.#deadLetter(dead))) return;
    if (retry.length > 0) {
      const delayMs = backoffDelay(attempt, this.#options.backoff);
      this.#retryLater(retry, attempt + 1, delayMs, plan.retryReason, true);
      return;
    }
    this.#batchDone();
  }

  #retryLater(
    items: readonly T[],
    attempt: number,
    delayMs: number,
    reason: string,
    ownTimer: boolean,
  ): void {
    this.counters.retries += items.length;
    this.#options.hooks.retry({
      kind: this.#options.adapter.kind,
      ids: items.map((item) => item.id),
      delayMs,
      reason,
    });
    if (!ownTimer) {
      // The shared gate already holds every request back for the delay.
      this.#schedule(items, attempt);
      return;
    }
    // A blob waiting for its own retry (one too big for this link right now keeps timing out) gives its
    // slot back meanwhile, so that a few such blobs cannot hold back every other blob. A blob batch in
    // memory is its manifest entries only; record batches hold their payloads, so they keep their slot.
    const yieldSlot = this.#options.adapter.kind === 'blob';
    if (yieldSlot) {
      this.#sleepingBatches += 1;
      this.#pendingBatches -= 1;
      this.#slotFreed?.();
    }
    this.#track(
      sleep(delayMs, this.#options.signal).then(
        () => {
          if (yieldSlot) {
            this.#sleepingBatches -= 1;
            this.#pendingBatches += 1;
          }
          this.#schedule(items, attempt);
        },
        (error: unknown) => ignoreAbort(error),
      ),
    );
  }

  /**
   * Acknowledges items in the queue, retrying a failed write until it succeeds: an item counts as delivered
   * (and a flush as done) only once that is on disk. False when the lane stopped first; the items then stay
   * queued and are sent again after the next start, where the server answers `duplicate`.
   */
  async #ack(items: readonly T[]): Promise<boolean> {
    const written = await this.#durably('ack', items.length, () => this.#options.adapter.ack(items));
    if (written) this.#settle(items);
    return written;
  }

  /** Persists dead letters, then acknowledges their items; retried like {@link #ack}, never skipped. */
  async #deadLetter(dead: readonly DeadItem<T>[]): Promise<boolean> {
    const written = await this.#durably('dead-letter', dead.length, () =>
      this.#options.adapter.deadLetter(dead),
    );
    if (!written || !(await this.#ack(dead.map((entry) => entry.item)))) return false;
    this.counters.dead += dead.length;
    this.#options.hooks.dead({
      kind: this.#options.adapter.kind,
      items: dead.map((entry) => ({ id: entry.item.id, status: entry.status, reason: entry.reason })),
    });
    return true;
  }

  /** Runs `write` until it succeeds (backing off, reporting each cause once); false when the lane stopped. */
  async #durably(
    operation: QueueWriteOperation,
    count: number,
    write: () => Promise<void>,
  ): Promise<boolean> {
    const { signal, backoff, adapter } = this.#options;
    // Until then the disk queue may count an ack as done in memory; the items are still queued on disk.
    const pending = operation === 'ack' ? count : 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await write();
        if (attempt > 0) {
          this.counters.unwritten -= pending;
          this.#reportedWriteProblems.clear();
        }
        return true;
      } catch (error) {
        if (attempt === 0) this.counters.unwritten += pending;
        if (signal.aborted) return false;
        const cause = asError(error);
        const key = `${operation} ${(cause as NodeJS.ErrnoException).code ?? cause.message}`;
        if (!this.#reportedWriteProblems.has(key)) {
          this.#reportedWriteProblems.add(key);
          this.#options.hooks.error(new QueueWriteError(operation, adapter.kind, count, { cause }));
        }
        try {
          await sleep(backoffDelay(attempt, backoff), signal);
        } catch {
          return false;
        }
      }
    }
  }

  #settle(items: readonly T[]): void {
    this.#options.flushes.settle(items.map((item) => item.seq));
  }

  #batchDone(): void {
    this.#pendingBatches -= 1;
    this.#slotFreed?.();
    this.#options.hooks.settled();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

function ignoreAbort(error: unknown): void {
  if (!isWaitAbortedError(error)) throw error;
}

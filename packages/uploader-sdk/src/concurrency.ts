/** Bounds and target of {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** The limit never falls below this. */
  readonly min: number;
  /** The limit never grows above this. */
  readonly max: number;
  /** Requests slower than this are a congestion signal. */
  readonly latencyTargetMs: number;
  /** Called whenever the limit changes, e.g. to set a p-queue's `concurrency`. */
  readonly onChange?: (limit: number) => void;
  /** @default min */
  readonly initial?: number;
}

/** How one request ended, as far as congestion is concerned. */
export interface RequestSample {
  /** When the request started (same clock as `now`). */
  readonly startedAt: number;
  /** How long it took. */
  readonly latencyMs: number;
  /** The server said it was overloaded (429/503) or the request timed out. */
  readonly overloaded: boolean;
}

/**
 * Additive-increase / multiplicative-decrease request concurrency. The limit grows by one after a full
 * window (as many requests as the current limit) of successes under the latency target, and halves on
 * 429/503/timeouts or a slow request. Requests that started before the last decrease do not cause
 * another one: they were sent under the old limit and report the same congestion.
 */
export class AdaptiveConcurrency {
  #limit: number;
  #successesInWindow = 0;
  #lastDecreaseAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: AdaptiveConcurrencyOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (options.min < 1 || options.max < options.min) {
      throw new RangeError(
        `concurrency bounds must satisfy 1 <= min <= max, got ${options.min}..${options.max}`,
      );
    }
    this.#limit = Math.min(options.max, Math.max(options.min, options.initial ?? options.min));
  }

  /** The current limit. */
  get limit(): number {
    return this.#limit;
  }

  /** Feeds one finished request into the controller; returns the (possibly new) limit. */
  record(sample: RequestSample): number {
    const congested = sample.overloaded || sample.latencyMs > this.options.latencyTargetMs;
    if (congested) {
      if (sample.startedAt > this.#lastDecreaseAt) this.#set(Math.floor(this.#limit / 2));
      return this.#limit;
    }
    this.#successesInWindow += 1;
    if (this.#successesInWindow >= this.#limit) this.#set(this.#limit + 1);
    return this.#limit;
  }

  #set(next: number): void {
    const bounded = Math.min(this.options.max, Math.max(this.options.min, next));
    if (bounded < this.#limit) this.#lastDecreaseAt = this.now();
    this.#successesInWindow = 0;
    if (bounded === this.#limit) return;
    this.#limit = bounded;
    this.options.onChange?.(bounded);
  }
}

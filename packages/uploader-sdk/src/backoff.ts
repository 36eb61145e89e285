import { MAX_TIMER_MS, timerDelay } from './timers.js';

/** Parameters of the exponential backoff. */
export interface BackoffPolicy {
  /** The first retry waits up to this long. */
  readonly baseMs: number;
  /** No computed delay exceeds this (a server's `Retry-After` may, up to `capMs`). */
  readonly maxMs: number;
  /**
   * No delay at all exceeds this, not even one a server's `Retry-After` asks for.
   * @default MAX_TIMER_MS
   */
  readonly capMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): full jitter, `random(0, min(maxMs, baseMs * 2^attempt))`,
 * then never sooner than the server's `Retry-After`, and never later than `capMs`.
 * @param random a source of numbers in [0, 1); @default Math.random
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 52));
  const jittered = Math.floor(random() * ceiling);
  return cappedDelay(Math.max(jittered, retryAfterMs ?? 0), policy);
}

/** `ms` bounded by the policy's cap and by what a timer can hold. */
export function cappedDelay(ms: number, policy: Pick<BackoffPolicy, 'capMs'>): number {
  return timerDelay(Math.min(ms, policy.capMs ?? MAX_TIMER_MS));
}

/** The wait was cut short because the uploader is closing. */
export class WaitAbortedError extends Error {
  override name = 'WaitAbortedError' as const;
  constructor(options?: ErrorOptions) {
    super('wait aborted', options);
  }
}

/** True when `error` is a {@link WaitAbortedError}. */
export function isWaitAbortedError(error: unknown): error is WaitAbortedError {
  return error instanceof WaitAbortedError && error.name === 'WaitAbortedError';
}

/**
 * Sleeps `ms` (at most {@link MAX_TIMER_MS}) on an unref'd timer.
 * @throws {WaitAbortedError} when `signal` aborts first.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new WaitAbortedError({ cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new WaitAbortedError({ cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, timerDelay(ms));
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One backoff shared by every request to the same endpoint, so an outage produces one slow probe rather
 * than a retry per pending batch: after a failure, once the delay has passed, a single waiter goes through
 * as the probe and the others wait for its outcome. Failures of requests that started before the latest
 * failure was seen do not grow the delay again: they describe the same outage.
 */
export class BackoffGate {
  #attempt = 0;
  #openAt = 0;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #pausedUntil = 0;
  #probing = false;
  #wake = new Set<() => void>();

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive failure rounds since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Milliseconds until the gate opens (0 when open). */
  remainingMs(): number {
    return Math.max(0, Math.max(this.#openAt, this.#pausedUntil) - this.now());
  }

  /** True while sending is paused because the API key was refused. */
  get paused(): boolean {
    return this.#pausedUntil > this.now();
  }

  /**
   * A request started at `startedAt` failed in a retryable way; returns the delay before the next request.
   * @param retryAfterMs the server's `Retry-After`, if any; honoured even by requests of the same round.
   */
  failure(startedAt: number, retryAfterMs?: number): number {
    const now = this.now();
    if (startedAt > this.#lastFailureAt) {
      const delay = backoffDelay(this.#attempt, this.policy, retryAfterMs, this.random);
      this.#attempt += 1;
      this.#lastFailureAt = now;
      this.#openAt = Math.max(this.#openAt, now + delay);
    } else if (retryAfterMs !== undefined) {
      this.#openAt = Math.max(this.#openAt, now + cappedDelay(retryAfterMs, this.policy));
    }
    this.endProbe();
    return Math.max(0, this.#openAt - now);
  }

  /** A request succeeded: the next failure starts from the base delay again, and every waiter may go. */
  success(): void {
    this.#attempt = 0;
    this.endProbe();
  }

  /** The request that went through `wait` ended without a verdict (e.g. it was split or not sent). */
  endProbe(): void {
    if (!this.#probing) return;
    this.#probing = false;
    this.#wakeAll();
  }

  /** Stops sending for `ms` (until {@link resume}). */
  pause(ms: number): void {
    this.#pausedUntil = this.now() + ms;
  }

  /** Lifts a pause and any pending backoff at once. */
  resume(): void {
    this.#pausedUntil = 0;
    this.#openAt = 0;
    this.#attempt = 0;
    this.#probing = false;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of [...this.#wake]) wake();
  }

  /**
   * Resolves when the caller may send. Never spins: it sleeps until the gate's time on an unref'd timer, or
   * until the probe in flight reports. The caller must then report `success`, `failure` or `endProbe`.
   * @throws {WaitAbortedError} when `signal` aborts first.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const remaining = this.remainingMs();
      if (remaining > 0) await this.#sleepOrWake(remaining, signal);
      else if (this.#attempt === 0) return;
      else if (this.#probing) await this.#sleepOrWake(MAX_TIMER_MS, signal);
      else {
        this.#probing = true;
        return;
      }
    }
  }

  #sleepOrWake(ms: number, signal?: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const wakeUp = (): void => wake.abort();
    this.#wake.add(wakeUp);
    const combined = signal === undefined ? wake.signal : AbortSignal.any([signal, wake.signal]);
    return sleep(ms, combined)
      .catch((error: unknown) => {
        if (!wake.signal.aborted || signal?.aborted) throw error;
      })
      .finally(() => this.#wake.delete(wakeUp));
  }
}

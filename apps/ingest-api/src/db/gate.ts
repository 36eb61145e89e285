import { DatabaseOverloadedError } from '../errors.js';

/** Bounds of a {@link Gate}. */
export interface GateOptions {
  /** Operations that may run at once (the connection pool size). */
  readonly concurrency: number;
  /** Operations that may wait for a slot; more are refused at once. */
  readonly maxWaiting: number;
  /** Milliseconds an operation may wait for a slot before it is refused. */
  readonly timeoutMs: number;
}

interface Waiter {
  readonly grant: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A bounded admission queue in front of the connection pool. The pool itself would queue
 * without limit; refusing early with {@link DatabaseOverloadedError} turns saturation into a
 * fast 503 the client backs off from, instead of an ever-growing latency.
 */
export class Gate {
  readonly #options: GateOptions;
  readonly #waiters: Waiter[] = [];
  #running = 0;

  constructor(options: GateOptions) {
    this.#options = options;
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  /** Operations waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Runs `fn` once a slot is free.
   * @throws {DatabaseOverloadedError} when too many operations wait, or none freed a slot in time.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /**
   * Runs `fn` if a slot is free now, else resolves `undefined` without running it: for background work
   * (live-feed publishing, rate rollups) that must never take a waiting place a request needs, nor turn a
   * busy pool into 503s for clients.
   */
  tryRun<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return this.#running < this.#options.concurrency ? this.run(fn) : Promise.resolve(undefined);
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#options.concurrency) {
      this.#running += 1;
      return Promise.resolve();
    }
    if (this.#waiters.length >= this.#options.maxWaiting) {
      return Promise.reject(
        new DatabaseOverloadedError(`database busy: ${this.#waiters.length} requests already waiting`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(new DatabaseOverloadedError(`no database connection within ${this.#options.timeoutMs} ms`));
        }, this.#options.timeoutMs).unref(),
      };
      this.#waiters.push(waiter);
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#running -= 1;
    else next.grant();
  }
}

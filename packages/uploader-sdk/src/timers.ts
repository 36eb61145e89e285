/**
 * The longest delay a Node.js timer can hold (2^31 − 1 ms, about 24.8 days). A longer one is not an error:
 * Node emits a `TimeoutOverflowWarning` and fires it after 1 ms, which turns a long wait into a busy loop.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` bounded to what a timer can hold (and to no less than 0). */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/**
 * Keeps the process alive while someone waits for the uploader. Every timer and socket of an idle uploader
 * is unref'd so that it never keeps a process running; but a script that awaits `flush()` or `close()`
 * must not exit in the middle of a backoff with items still queued (Node would end it with exit code 13,
 * "unsettled top-level await"). `hold` starts one ref'd timer for all holders, the last `release` clears it.
 */
export class KeepAlive {
  #holders = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Holds the event loop open until the returned function is called (idempotent). */
  hold(): () => void {
    this.#holders += 1;
    this.#timer ??= setInterval(() => {}, MAX_TIMER_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holders -= 1;
      if (this.#holders > 0 || this.#timer === undefined) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }

  /** True while some caller holds the process open. */
  get held(): boolean {
    return this.#holders > 0;
  }
}

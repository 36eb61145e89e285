/**
 * Upload attempts before a blob is `failed`. With the defaults below the attempts span about
 * 27–45 hours (README, "Blob retries"), so an object-store outage of a day loses nothing.
 */
export const DEFAULT_MAX_ATTEMPTS = 48;
/** Delay after the first failed attempt, doubled per attempt. */
export const DEFAULT_BACKOFF_BASE_MS = 1000;
/** Cap on the delay between attempts, before the ±25 % jitter: one hour. */
export const DEFAULT_BACKOFF_MAX_MS = 3_600_000;

/** The base and cap of {@link retryDelayMs}. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Milliseconds to wait after failed attempt `attempt` (1-based) before the next one:
 * `min(maxMs, baseMs · 2^(attempt−1))`, times a jitter factor in [0.75, 1.25).
 * @param random a source of numbers in [0, 1). @default Math.random
 */
export function retryDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return nominal * (0.75 + random() * 0.5);
}

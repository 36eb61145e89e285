import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseStartError } from '../errors.js';
import { asUnavailable } from './connection-errors.js';

/** One failed attempt that will be retried, as {@link RetryUnavailableOptions.onRetry} is told. */
export interface ConnectRetry {
  /** 1 for the first failed attempt. */
  readonly attempt: number;
  /** Milliseconds until the next attempt. */
  readonly retryInMs: number;
  /** Milliseconds since the first attempt began. */
  readonly elapsedMs: number;
  /** Why the attempt failed (the driver's message, no stack). */
  readonly reason: string;
}

/** Options of {@link retryWhileUnavailable}. */
export interface RetryUnavailableOptions {
  /** Milliseconds after the first attempt began past which no attempt starts. */
  readonly totalMs: number;
  /** Delay after the first failure, doubled after each one up to {@link RetryUnavailableOptions.maxDelayMs}. @default 250 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Called before each wait. */
  readonly onRetry?: (retry: ConnectRetry) => void;
}

/**
 * Runs `open` until it succeeds, retrying with exponential backoff (half jitter, so instances started
 * together do not knock in step) while it fails because the database is unreachable. Any other error
 * is thrown at once.
 * @throws {DatabaseStartError} once the next attempt would start after `totalMs`, saying how long
 * and how often it tried and the last reason.
 */
export async function retryWhileUnavailable<T>(
  open: () => Promise<T>,
  { totalMs, baseDelayMs = 250, maxDelayMs = 5000, onRetry }: RetryUnavailableOptions,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await open();
    } catch (error) {
      const unavailable = asUnavailable(error);
      if (unavailable === undefined) throw error;
      const reason = (unavailable.cause instanceof Error ? unavailable.cause : unavailable).message;
      const elapsedMs = Date.now() - started;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const retryInMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      if (elapsedMs + retryInMs > totalMs) {
        throw new DatabaseStartError(
          `database unreachable after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${(elapsedMs / 1000).toFixed(1)} s: ${reason}`,
          { cause: error },
        );
      }
      onRetry?.({ attempt, retryInMs, elapsedMs, reason });
      await sleep(retryInMs);
    }
  }
}

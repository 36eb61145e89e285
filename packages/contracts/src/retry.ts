import { REQUEST_ERRORS, type RequestErrorCode } from './error-codes.js';
import type { ItemStatus } from './item.js';

/** What a client does with one item after the server answered it. */
export type ItemAction = 'ack' | 'dead-letter' | 'retry';

/** `stored`/`duplicate` → ack; `conflict`/`rejected` → dead-letter; `retry` → retry later. */
export function itemAction(status: ItemStatus): ItemAction {
  switch (status) {
    case 'stored':
    case 'duplicate':
      return 'ack';
    case 'conflict':
    case 'rejected':
      return 'dead-letter';
    case 'retry':
      return 'retry';
  }
}

/**
 * What a client does with a whole request after its HTTP outcome.
 * - `per-item`: a 200; apply {@link itemAction} to each result.
 * - `retry`: resend later, no sooner than `afterMs` when the server said so.
 * - `split`: the body was too large; send the items in smaller requests.
 * - `pause`: the key was refused; stop sending, keep the data, wait for a new key.
 * - `dead-letter`: the request can never succeed as sent (a single item the server refuses whole).
 */
export type RequestDecision =
  | { readonly action: 'per-item' }
  | { readonly action: 'retry'; readonly afterMs: number | undefined; readonly reason: string }
  | { readonly action: 'split'; readonly reason: string }
  | { readonly action: 'pause'; readonly reason: string }
  | { readonly action: 'dead-letter'; readonly reason: string };

/** A header lookup, as `Headers#get` or a plain record of lower-case names. */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

function headerValue(headers: HeaderSource | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Milliseconds to wait from `nowMs` according to a `Retry-After` header, in delta-seconds
 * (`"120"`) or HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`) form. A date in the past gives 0.
 * Returns `undefined` when the header is absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^\d/.test(text) || text.startsWith('-')) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The outcome of one HTTP request, as a client saw it. */
export interface RequestOutcome {
  /** HTTP status, or `undefined` when no response arrived (network error, timeout). */
  readonly status: number | undefined;
  readonly headers?: HeaderSource;
  /** The `error.code` of the body, when the server sent one. */
  readonly code?: string;
  /** How many items the request carried; a single item that is too large cannot be split. */
  readonly itemCount: number;
  readonly nowMs?: number;
}

/**
 * Classifies a request's HTTP outcome. Network errors, timeouts, 408, 429 and 5xx are retried
 * (never sooner than `Retry-After`); 413 splits; 401/403 pause; other 4xx (which the SDK never
 * provokes with well-formed requests) split down to single items, and a single refused item is
 * dead-lettered with the reason.
 */
export function classifyRequest(outcome: RequestOutcome): RequestDecision {
  const { status, itemCount } = outcome;
  const afterMs = parseRetryAfter(headerValue(outcome.headers, 'retry-after'), outcome.nowMs);
  const code = outcome.code ?? (status === undefined ? 'NETWORK_ERROR' : `HTTP_${status}`);
  if (status === undefined) return { action: 'retry', afterMs: undefined, reason: code };
  if (status >= 200 && status < 300) return { action: 'per-item' };
  if (status === 401 || status === 403) return { action: 'pause', reason: code };
  if (status === 408 || status === 429 || status >= 500) return { action: 'retry', afterMs, reason: code };
  if (code in REQUEST_ERRORS && REQUEST_ERRORS[code as RequestErrorCode].retryable) {
    return { action: 'retry', afterMs, reason: code };
  }
  if (itemCount > 1) return { action: 'split', reason: code };
  return { action: 'dead-letter', reason: code };
}

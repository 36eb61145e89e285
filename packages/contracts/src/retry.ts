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
 * - `per-item`: a 2xx; apply {@link itemAction} to each result.
 * - `retry`: resend later, no sooner than `afterMs` when the server said so. `hint`, when present, says
 *   that the answer points at a deployment problem (wrong endpoint, a proxy, a server in the wrong
 *   role) rather than a passing fault: the client keeps the items and tells its user.
 * - `split`: send the items in smaller requests.
 * - `pause`: the key was refused; stop sending, keep the data, wait for a new key.
 * - `dead-letter`: the server refused this one item as a whole with a contract-shaped 400 or 413.
 */
export type RequestDecision =
  | { readonly action: 'per-item' }
  | {
      readonly action: 'retry';
      readonly afterMs: number | undefined;
      readonly reason: string;
      readonly hint?: string;
    }
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
  readonly headers?: HeaderSource | undefined;
  /**
   * The `error.code` of the body, only when the body matched the contract's `ErrorBodySchema`. An
   * answer without it (HTML from a proxy, another server's JSON) is never taken as the items' fault.
   */
  readonly code?: string | undefined;
  /** How many items the request carried; a single item that is too large cannot be split. */
  readonly itemCount: number;
  readonly nowMs?: number | undefined;
}

/** The contract-shaped answers that blame the items themselves: status and the code it must carry. */
const ITEM_FAULT_CODES: Readonly<Record<number, RequestErrorCode>> = {
  400: 'INVALID_BATCH',
  413: 'PAYLOAD_TOO_LARGE',
};

function deploymentHint(
  status: number,
  contractShaped: boolean,
  code: string | undefined,
): string | undefined {
  if (status >= 300 && status < 400) return 'the endpoint redirects; configure the final URL';
  if (status === 400 && code === 'INVALID_REQUEST') {
    return 'the API could not read the HTTP request itself (malformed, or headers too large): something in between, such as a proxy adding headers, alters requests';
  }
  if (status === 404 || status === 405) {
    return contractShaped
      ? 'the server has no such route: is it running with ROLE=worker?'
      : 'no Sluice ingest route answers there: check the endpoint (host, port and path prefix)';
  }
  if (status === 415) return 'the request was refused as an unsupported media type: a proxy may rewrite it';
  if (status === 408 || status === 429) return undefined;
  if (status >= 400 && status < 500 && !contractShaped) {
    return 'something other than the Sluice ingest API answered (a proxy or another service)';
  }
  return undefined;
}

/**
 * Classifies a request's HTTP outcome. Only a contract-shaped `400 INVALID_BATCH` or `413
 * PAYLOAD_TOO_LARGE` blames the items: a request of several is split, and a single item is
 * dead-lettered. 401/403 pause. Everything else (no response, a redirect, 404, 405, 408, 415, 429,
 * 5xx, any answer whose body is not the contract's) is retried with backoff, never sooner than
 * `Retry-After`, and keeps every item; a 413 from something other than the API still splits, as a
 * smaller request may pass it.
 */
export function classifyRequest(outcome: RequestOutcome): RequestDecision {
  const { status, itemCount } = outcome;
  if (status === undefined)
    return { action: 'retry', afterMs: undefined, reason: outcome.code ?? 'NETWORK_ERROR' };
  if (status >= 200 && status < 300) return { action: 'per-item' };
  const contractShaped = outcome.code !== undefined && outcome.code in REQUEST_ERRORS;
  const reason = contractShaped ? (outcome.code as string) : `HTTP_${status}`;
  if (status === 401 || status === 403) return { action: 'pause', reason };
  const blamesItems = contractShaped && ITEM_FAULT_CODES[status] === outcome.code;
  if ((blamesItems || status === 413) && itemCount > 1) return { action: 'split', reason };
  if (blamesItems) return { action: 'dead-letter', reason };
  const afterMs = parseRetryAfter(headerValue(outcome.headers, 'retry-after'), outcome.nowMs);
  const hint = deploymentHint(status, contractShaped, outcome.code);
  return hint === undefined
    ? { action: 'retry', afterMs, reason }
    : { action: 'retry', afterMs, reason, hint };
}

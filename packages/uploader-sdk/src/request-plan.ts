import { itemAction } from '@sluice/contracts';
import type { ItemKind } from './events.js';
import type { DeadItem, LaneItem } from './lane-item.js';
import { decideRequest, endpointProblem } from './request-decision.js';
import type { TransportResult } from './transport.js';

/** An item the server acknowledged. */
export interface AckedItem<T extends LaneItem> {
  readonly item: T;
  readonly status: 'stored' | 'duplicate';
}

/**
 * What a lane does with one request's items after the answer, per item and for the request as a whole:
 * - `per-item`: the server answered every item: `ack`, `dead` and `retry` (on the items' own backoff,
 *   reported with `retryReason`) partition the items; the endpoint works, so backoff and pause end.
 * - `retry`: every item again under the lane's shared backoff, no sooner than `afterMs`; `problem` names a
 *   deployment problem to report (wrong endpoint, a proxy, a server in the worker role).
 * - `retry-items`: every item again on their own backoff (the request failed for its own size).
 * - `split`: each piece as its own request.
 * - `pause`: the key was refused; every lane pauses and the items wait for the next probe.
 * - `dead-letter`: the server refused the request's single item as a whole.
 */
export type RequestStep<T extends LaneItem> =
  | {
      readonly action: 'per-item';
      readonly ack: readonly AckedItem<T>[];
      readonly dead: readonly DeadItem<T>[];
      readonly retry: readonly T[];
      readonly retryReason: string;
    }
  | {
      readonly action: 'retry';
      readonly afterMs: number | undefined;
      readonly reason: string;
      readonly problem: string | undefined;
    }
  | { readonly action: 'retry-items'; readonly reason: string }
  | { readonly action: 'split'; readonly reason: string; readonly pieces: readonly (readonly T[])[] }
  | { readonly action: 'pause'; readonly reason: string }
  | { readonly action: 'dead-letter'; readonly dead: readonly DeadItem<T>[] };

/** The whole decision about one request's answer; the lane only carries it out. */
export type RequestPlan<T extends LaneItem> = RequestStep<T> & {
  /** Refused as too large (413): the server's limits may have changed. */
  readonly tooLarge: boolean;
  /** A congestion signal for the adaptive concurrency (timeout, 429, 503, no response). */
  readonly overloaded: boolean;
};

/** One request as the lane sent it, and what came back. */
export interface SentRequest<T extends LaneItem> {
  readonly kind: ItemKind;
  /** The items, in the order they were sent. */
  readonly items: readonly T[];
  readonly result: TransportResult;
}

/**
 * Plans what happens to every item of a request after its answer: the contracts' `classifyRequest` for
 * the HTTP outcome (via {@link decideRequest}), then `itemAction` for each per-item result. Pure.
 */
export function planRequest<T extends LaneItem>(request: SentRequest<T>): RequestPlan<T> {
  const { kind, items, result } = request;
  const signals = {
    tooLarge: result.status === 413,
    overloaded:
      result.timedOut || result.status === 429 || result.status === 503 || result.status === undefined,
  };
  const decision = decideRequest({
    kind,
    result,
    itemCount: items.length,
    // results[i] must answer items[i]; an answer for other ids is as unusable as an unparsable body.
    answered: result.response?.results.every((answer, i) => answer.id === items[i]?.id) === true,
  });
  switch (decision.action) {
    case 'per-item':
      return { ...signals, ...perItem(items, result) };
    case 'retry':
      return {
        ...signals,
        action: 'retry',
        afterMs: decision.afterMs,
        reason: decision.reason,
        problem: endpointProblem(decision, result),
      };
    case 'retry-items':
      return { ...signals, action: 'retry-items', reason: decision.reason };
    case 'split': {
      const middle = Math.ceil(items.length / 2);
      const pieces =
        decision.into === 'singles'
          ? items.map((item) => [item])
          : [items.slice(0, middle), items.slice(middle)];
      return { ...signals, action: 'split', reason: decision.reason, pieces };
    }
    case 'pause':
      return { ...signals, action: 'pause', reason: decision.reason };
    case 'dead-letter': {
      const reason = { code: decision.reason, message: result.error?.message ?? decision.reason };
      return {
        ...signals,
        action: 'dead-letter',
        dead: items.map((item) => ({ item, status: 'rejected', reason })),
      };
    }
  }
}

function perItem<T extends LaneItem>(
  items: readonly T[],
  result: TransportResult,
): Extract<RequestStep<T>, { action: 'per-item' }> {
  const results = result.response?.results ?? [];
  const ack: AckedItem<T>[] = [];
  const dead: DeadItem<T>[] = [];
  const retry: T[] = [];
  let retryReason = 'TEMPORARY_FAILURE';
  results.forEach((answer, index) => {
    const item = items[index]!;
    const action = itemAction(answer.status);
    if (action === 'ack') ack.push({ item, status: answer.status as 'stored' | 'duplicate' });
    else if (action === 'dead-letter') {
      dead.push({
        item,
        status: answer.status,
        reason: answer.error ?? { code: answer.status, message: '' },
      });
    } else {
      if (retry.length === 0) retryReason = answer.error?.code ?? 'TEMPORARY_FAILURE';
      retry.push(item);
    }
  });
  return { action: 'per-item', ack, dead, retry, retryReason };
}

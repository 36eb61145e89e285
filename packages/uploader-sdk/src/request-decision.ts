import { classifyRequest, type RequestDecision } from '@sluice/contracts';
import type { ItemKind } from './events.js';
import type { TransportResult } from './transport.js';

/**
 * What a lane does with one request's outcome: the contracts' {@link RequestDecision}, with how a split
 * cuts the items.
 */
export type LaneDecision =
  | Exclude<RequestDecision, { readonly action: 'split' }>
  | { readonly action: 'split'; readonly reason: string; readonly into: 'halves' | 'singles' }
  /** Retry these items on their own backoff: the request failed for its own size, not the endpoint's state. */
  | { readonly action: 'retry-items'; readonly reason: string };

/** What the lane knows about one request when it decides. */
export interface RequestFacts {
  readonly kind: ItemKind;
  readonly result: TransportResult;
  readonly itemCount: number;
  /** The 2xx body answers exactly the items sent, in order. */
  readonly answered: boolean;
}

/** Decides what to do with a request's outcome. Pure. */
export function decideRequest(facts: RequestFacts): LaneDecision {
  const { kind, result, itemCount, answered } = facts;
  if (answered) return { action: 'per-item' };
  // A blob request's timeout already allows for its size at the slowest supported uplink: a single blob
  // that still ran out is too big for this link right now. It retries on its own backoff, so it keeps
  // neither the other blobs nor the shared backoff waiting.
  if (kind === 'blob' && result.timedOut && itemCount === 1)
    return { action: 'retry-items', reason: 'TIMEOUT' };
  // An unusable 2xx (unparsable, or answering other ids) is as good as no answer.
  const invalid = result.code === 'INVALID_RESPONSE' || result.response !== undefined;
  const decision = classifyRequest({
    status: invalid ? undefined : result.status,
    ...(result.headers === undefined ? {} : { headers: result.headers }),
    ...(invalid ? { code: 'INVALID_RESPONSE' } : result.code === undefined ? {} : { code: result.code }),
    itemCount,
  });
  if (decision.action === 'split') return { ...decision, into: 'halves' };
  // A server or proxy that limits how long a request may take cuts a long upload off, without an answer
  // or with a 408; the same request would be cut again on every attempt, while each blob alone may fit.
  // So a blob request of several that ended so is sent again blob by blob; a single one retries with
  // backoff.
  if (kind === 'blob' && itemCount > 1 && decision.action === 'retry' && cutShort(result)) {
    return { action: 'split', reason: decision.reason, into: 'singles' };
  }
  return decision;
}

/** The request ended without an answer (its own timeout, the connection closed or reset) or with a 408. */
function cutShort(result: TransportResult): boolean {
  return result.timedOut || result.status === undefined || result.status === 408;
}

/**
 * What an answer says about the deployment, when it points at one rather than at a passing fault: the
 * decision's hint (wrong endpoint, a proxy, a server in the worker role), or, for a 5xx whose body is not
 * the contract's, a proxy or gateway answering for an API it cannot reach. `undefined` otherwise. Pure.
 */
export function endpointProblem(decision: LaneDecision, result: TransportResult): string | undefined {
  if (decision.action !== 'retry' || result.status === undefined) return undefined;
  if (result.status >= 200 && result.status < 300) {
    // Only an unusable 2xx is retried: a login page, a proxy's own page, or answers to other requests.
    return result.response === undefined
      ? "its body is not the Sluice ingest API's answer (a login page or a proxy's page?): check `endpoint`"
      : 'it answers for other items than those sent (a cache or proxy replaying answers?): check what sits in front of the API';
  }
  if (result.status >= 300 && result.status < 400) {
    const location = result.headers?.get('location') ?? undefined;
    // A Location that is no URL is shown as it is.
    const to =
      location === undefined
        ? undefined
        : URL.canParse(location, result.url)
          ? new URL(location, result.url).href
          : JSON.stringify(location);
    return to === undefined
      ? decision.hint
      : `the endpoint redirects to ${to}; configure the final URL (redirects are not followed)`;
  }
  const contractShaped = result.code !== undefined;
  if (decision.hint !== undefined) {
    return contractShaped && (result.status === 404 || result.status === 405)
      ? `${decision.hint} Or its path is not the API's: check \`endpoint\``
      : decision.hint;
  }
  if (result.status >= 500 && !contractShaped && result.response === undefined) {
    return 'a proxy or gateway answered instead of the Sluice ingest API: is the API running and reachable behind it?';
  }
  return undefined;
}

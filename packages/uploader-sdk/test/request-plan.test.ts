import { countStatuses, type ItemResult } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import type { LaneItem } from '../src/lane-item.js';
import { planRequest, type RequestPlan } from '../src/request-plan.js';
import type { TransportResult } from '../src/transport.js';
import { transportResult } from './support/transport-result.js';

const items: LaneItem[] = [1, 2, 3, 4].map((seq) => ({ seq, id: `id-${seq}` }));
const [a, b, c, d] = items as [LaneItem, LaneItem, LaneItem, LaneItem];

const answer = (overrides: Partial<TransportResult>): TransportResult => transportResult(overrides);

/** A 200 with these per-item results. */
function answered(results: ItemResult[]): TransportResult {
  return answer({ status: 200, response: { results, counts: countStatuses(results) } });
}

/** A contract-shaped error answer. */
function refused(status: number, code: string, headers?: Record<string, string>): TransportResult {
  return answer({
    status,
    code,
    error: new Error(`${code} from the server`),
    ...(headers === undefined ? {} : { headers: new Headers(headers) }),
  });
}

const quiet = { tooLarge: false, overloaded: false };
const stored = (item: LaneItem) => ({ id: item.id, status: 'stored' as const });
const wrongPath = 'no Sluice ingest route answers there: check the endpoint (host, port and path prefix)';
const proxy =
  'a proxy or gateway answered instead of the Sluice ingest API: is the API running and reachable behind it?';

const cases: {
  name: string;
  kind?: 'record' | 'blob';
  items: LaneItem[];
  result: TransportResult;
  plan: RequestPlan<LaneItem>;
}[] = [
  {
    name: '200, all stored: every item is acknowledged',
    items,
    result: answered(items.map(stored)),
    plan: {
      ...quiet,
      action: 'per-item',
      ack: items.map((item) => ({ item, status: 'stored' })),
      dead: [],
      retry: [],
      retryReason: 'TEMPORARY_FAILURE',
    },
  },
  {
    name: '200, mixed statuses: duplicates acked, conflict and rejected dead-lettered, retry retried',
    items,
    result: answered([
      { id: a.id, status: 'duplicate' },
      { id: b.id, status: 'conflict', error: { code: 'IDEMPOTENCY_CONFLICT', message: 'differs' } },
      { id: c.id, status: 'retry', error: { code: 'TEMPORARY_FAILURE', message: 'try again' } },
      { id: d.id, status: 'rejected' },
    ]),
    plan: {
      ...quiet,
      action: 'per-item',
      ack: [{ item: a, status: 'duplicate' }],
      dead: [
        {
          item: b,
          status: 'conflict',
          reason: { code: 'IDEMPOTENCY_CONFLICT', message: 'differs' },
        },
        { item: d, status: 'rejected', reason: { code: 'rejected', message: '' } },
      ],
      retry: [c],
      retryReason: 'TEMPORARY_FAILURE',
    },
  },
  {
    name: '200 answering other ids: nothing is acked, the request is retried as unusable and reported',
    items: [a, b],
    result: answered([stored(b), stored(a)]),
    plan: {
      ...quiet,
      action: 'retry',
      afterMs: undefined,
      reason: 'INVALID_RESPONSE',
      problem: expect.stringMatching(/answers for other items than those sent/),
    },
  },
  {
    name: '200 with a body that is not the contract (a login page): retried, nothing lost, reported',
    items: [a, b],
    result: answer({ status: 200, code: 'INVALID_RESPONSE', error: new Error('not JSON') }),
    plan: {
      ...quiet,
      action: 'retry',
      afterMs: undefined,
      reason: 'INVALID_RESPONSE',
      problem: expect.stringMatching(/not the Sluice ingest API's answer/),
    },
  },
  {
    name: '400 INVALID_BATCH for several items: split in halves',
    items: [a, b, c],
    result: refused(400, 'INVALID_BATCH'),
    plan: { ...quiet, action: 'split', reason: 'INVALID_BATCH', pieces: [[a, b], [c]] },
  },
  {
    name: '400 INVALID_BATCH for a single item: dead-lettered with the server message',
    items: [a],
    result: refused(400, 'INVALID_BATCH'),
    plan: {
      ...quiet,
      action: 'dead-letter',
      dead: [
        {
          item: a,
          status: 'rejected',
          reason: { code: 'INVALID_BATCH', message: 'INVALID_BATCH from the server' },
        },
      ],
    },
  },
  {
    name: '413 PAYLOAD_TOO_LARGE: split, and the limits are asked for again',
    items: [a, b, c, d],
    result: refused(413, 'PAYLOAD_TOO_LARGE'),
    plan: {
      tooLarge: true,
      overloaded: false,
      action: 'split',
      reason: 'PAYLOAD_TOO_LARGE',
      pieces: [
        [a, b],
        [c, d],
      ],
    },
  },
  {
    name: '401: every lane pauses, nothing is lost',
    items,
    result: refused(401, 'UNAUTHORIZED'),
    plan: { ...quiet, action: 'pause', reason: 'UNAUTHORIZED' },
  },
  {
    name: '403: every lane pauses, nothing is lost',
    items,
    result: refused(403, 'FORBIDDEN'),
    plan: { ...quiet, action: 'pause', reason: 'FORBIDDEN' },
  },
  {
    name: '404 in HTML (wrong path prefix): retried and reported as a wrong endpoint',
    items,
    result: answer({ status: 404, error: new Error('<html>Not Found</html>') }),
    plan: { ...quiet, action: 'retry', afterMs: undefined, reason: 'HTTP_404', problem: wrongPath },
  },
  {
    name: '429 with Retry-After: retried no sooner than asked, a congestion signal',
    items,
    result: refused(429, 'RATE_LIMITED', { 'retry-after': '7' }),
    plan: {
      tooLarge: false,
      overloaded: true,
      action: 'retry',
      afterMs: 7000,
      reason: 'RATE_LIMITED',
      problem: undefined,
    },
  },
  {
    name: '503 from the API: retried, a congestion signal, no deployment problem',
    items,
    result: refused(503, 'UNAVAILABLE'),
    plan: {
      tooLarge: false,
      overloaded: true,
      action: 'retry',
      afterMs: undefined,
      reason: 'UNAVAILABLE',
      problem: undefined,
    },
  },
  {
    name: '502 from a gateway: retried and reported as a proxy in front of an unreachable API',
    items,
    result: answer({ status: 502 }),
    plan: { ...quiet, action: 'retry', afterMs: undefined, reason: 'HTTP_502', problem: proxy },
  },
  {
    name: 'timeout of a blob request: one request per blob',
    kind: 'blob',
    items: [a, b, c],
    result: answer({ code: 'TIMEOUT', timedOut: true }),
    plan: {
      tooLarge: false,
      overloaded: true,
      action: 'split',
      reason: 'TIMEOUT',
      pieces: [[a], [b], [c]],
    },
  },
  {
    name: 'timeout of a single blob: retried on its own backoff',
    kind: 'blob',
    items: [a],
    result: answer({ code: 'TIMEOUT', timedOut: true }),
    plan: { tooLarge: false, overloaded: true, action: 'retry-items', reason: 'TIMEOUT' },
  },
  {
    name: 'network error: retried under the shared backoff, not reported as a misconfiguration',
    items,
    result: answer({ code: 'NETWORK_ERROR', error: new Error('ECONNREFUSED') }),
    plan: {
      tooLarge: false,
      overloaded: true,
      action: 'retry',
      afterMs: undefined,
      reason: 'NETWORK_ERROR',
      problem: undefined,
    },
  },
];

describe('a redirect is reported with where it leads', () => {
  it('a Location that is no URL is shown as it is, not thrown', () => {
    const redirect = (location: string) =>
      planRequest({
        kind: 'record',
        items: [a],
        result: answer({ status: 302, headers: new Headers({ location }) }),
      });
    expect(redirect('http://[::1')).toMatchObject({
      action: 'retry',
      problem:
        'the endpoint redirects to "http://[::1"; configure the final URL (redirects are not followed)',
    });
    expect(redirect('/login')).toMatchObject({
      problem: expect.stringMatching(/^the endpoint redirects to http:\/\/\S+\/login;/),
    });
  });
});

describe('what happens to a request’s items after the answer', () => {
  it.each(cases)('$name', ({ kind = 'record', items, result, plan }) => {
    expect(planRequest({ kind, items, result })).toEqual(plan);
  });

  it('every item of a per-item plan ends up in exactly one of ack, dead and retry', () => {
    for (const { kind = 'record', items, result } of cases) {
      const plan = planRequest({ kind, items, result });
      if (plan.action !== 'per-item') continue;
      const planned = [...plan.ack.map((entry) => entry.item), ...plan.dead.map((entry) => entry.item)];
      expect([...planned, ...plan.retry].map((item) => item.seq).sort()).toEqual(
        items.map((item) => item.seq),
      );
    }
  });
});

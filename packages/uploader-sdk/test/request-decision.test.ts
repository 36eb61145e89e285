import { describe, expect, it } from 'vitest';
import { decideRequest, endpointProblem } from '../src/request-decision.js';
import type { TransportResult } from '../src/transport.js';
import { transportResult } from './support/transport-result.js';

const outcome = (overrides: Partial<TransportResult>): TransportResult =>
  transportResult(overrides, '/v1/blobs');

const timedOut = outcome({ code: 'TIMEOUT', timedOut: true });
const decide = (kind: 'record' | 'blob', result: TransportResult, itemCount: number) =>
  decideRequest({ kind, result, itemCount, answered: false });

describe('what a lane does with a request outcome', () => {
  it('splits a timed-out blob request into single blobs, and retries a single one on its own backoff', () => {
    expect(decide('blob', timedOut, 3)).toEqual({ action: 'split', reason: 'TIMEOUT', into: 'singles' });
    expect(decide('blob', timedOut, 1)).toEqual({ action: 'retry-items', reason: 'TIMEOUT' });
  });

  it('retries a timed-out record request as a whole under the shared backoff', () => {
    expect(decide('record', timedOut, 50)).toMatchObject({ action: 'retry', reason: 'TIMEOUT' });
  });

  it('splits a contract 413 in halves and dead-letters it for a single item', () => {
    const tooLarge = outcome({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(decide('record', tooLarge, 10)).toEqual({
      action: 'split',
      reason: 'PAYLOAD_TOO_LARGE',
      into: 'halves',
    });
    expect(decide('record', tooLarge, 1)).toEqual({ action: 'dead-letter', reason: 'PAYLOAD_TOO_LARGE' });
  });

  it('names a deployment problem for 404, 405 and a proxy 5xx, but not for a passing fault', () => {
    const problem = (result: TransportResult) => endpointProblem(decide('record', result, 5), result);
    expect(problem(outcome({ status: 404 }))).toMatch(/check the endpoint/);
    expect(problem(outcome({ status: 405 }))).toMatch(/check the endpoint/);
    expect(problem(outcome({ status: 404, code: 'NOT_FOUND' }))).toMatch(/ROLE=worker.*check `endpoint`/);
    expect(problem(outcome({ status: 502 }))).toMatch(/proxy or gateway/);
    expect(problem(outcome({ status: 503, code: 'UNAVAILABLE' }))).toBeUndefined();
    expect(problem(outcome({ status: 429, code: 'RATE_LIMITED' }))).toBeUndefined();
    expect(problem(timedOut)).toBeUndefined();
    expect(problem(outcome({ code: 'NETWORK_ERROR' }))).toBeUndefined();
  });
});

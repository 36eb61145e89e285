import { describe, expect, it } from 'vitest';
import { classifyRequest, ITEM_STATUSES, itemAction, parseRetryAfter, REQUEST_ERRORS } from '../src/index.js';

const now = Date.parse('2026-11-22T10:00:00Z');

describe('per-item actions', () => {
  it.each([
    ['stored', 'ack'],
    ['duplicate', 'ack'],
    ['conflict', 'dead-letter'],
    ['rejected', 'dead-letter'],
    ['retry', 'retry'],
  ] as const)('%s → %s', (status, action) => {
    expect(itemAction(status)).toBe(action);
  });

  it('covers every status', () => {
    for (const status of ITEM_STATUSES) expect(['ack', 'dead-letter', 'retry']).toContain(itemAction(status));
  });
});

describe('Retry-After', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 09:59:00 GMT', 0],
  ])('%j → %i ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([undefined, null, '', '-5', '1.5', 'soon'])('%j is ignored', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});

describe('request classification', () => {
  it.each([
    [200, 5, undefined, { action: 'per-item' }],
    [undefined, 5, undefined, { action: 'retry', afterMs: undefined, reason: 'NETWORK_ERROR' }],
    [500, 5, 'INTERNAL', { action: 'retry', afterMs: undefined, reason: 'INTERNAL' }],
    [502, 5, undefined, { action: 'retry', afterMs: undefined, reason: 'HTTP_502' }],
    [408, 5, undefined, { action: 'retry', afterMs: undefined, reason: 'HTTP_408' }],
    [413, 5, 'PAYLOAD_TOO_LARGE', { action: 'split', reason: 'PAYLOAD_TOO_LARGE' }],
    [413, 1, 'PAYLOAD_TOO_LARGE', { action: 'dead-letter', reason: 'PAYLOAD_TOO_LARGE' }],
    [400, 4, 'INVALID_BATCH', { action: 'split', reason: 'INVALID_BATCH' }],
    [400, 1, 'INVALID_BATCH', { action: 'dead-letter', reason: 'INVALID_BATCH' }],
    [401, 5, 'UNAUTHORIZED', { action: 'pause', reason: 'UNAUTHORIZED' }],
    [401, 5, undefined, { action: 'pause', reason: 'HTTP_401' }],
    [403, 1, 'FORBIDDEN', { action: 'pause', reason: 'FORBIDDEN' }],
  ] as const)('HTTP %s with %i items and code %s', (status, itemCount, code, decision) => {
    expect(classifyRequest({ status, itemCount, nowMs: now, ...(code ? { code } : {}) })).toEqual(decision);
  });

  it('waits as long as Retry-After says on 429 and 503, in both header forms', () => {
    expect(
      classifyRequest({ status: 429, itemCount: 3, headers: { 'retry-after': '7' }, code: 'RATE_LIMITED' }),
    ).toEqual({ action: 'retry', afterMs: 7000, reason: 'RATE_LIMITED' });
    const headers = new Headers({ 'Retry-After': 'Sun, 22 Nov 2026 10:00:05 GMT' });
    expect(classifyRequest({ status: 503, itemCount: 3, headers, nowMs: now, code: 'UNAVAILABLE' })).toEqual({
      action: 'retry',
      afterMs: 5000,
      reason: 'UNAVAILABLE',
    });
  });

  // A wrong endpoint, an ingress answering HTML, a server in the wrong role: never the items' fault.
  it.each([
    [404, 1, undefined, 'check the endpoint'],
    [404, 7, 'NOT_FOUND', 'ROLE=worker'],
    [405, 1, undefined, 'check the endpoint'],
    [301, 1, undefined, 'redirects'],
    [415, 1, 'UNSUPPORTED_MEDIA_TYPE', 'media type'],
    [400, 1, undefined, 'something other than the Sluice ingest API'],
    [400, 3, undefined, 'something other than the Sluice ingest API'],
    // What the API's HTTP parser refused (a proxy added headers): the request, not its items.
    [400, 1, 'INVALID_REQUEST', 'could not read the HTTP request itself'],
    [400, 5, 'INVALID_REQUEST', 'could not read the HTTP request itself'],
    [409, 1, undefined, 'something other than the Sluice ingest API'],
  ] as const)(
    'HTTP %s with %i items and code %s keeps the items and says why',
    (status, itemCount, code, hint) => {
      const decision = classifyRequest({ status, itemCount, ...(code ? { code } : {}) });
      expect(decision.action).toBe('retry');
      expect(decision.action === 'retry' && decision.hint).toContain(hint);
    },
  );

  it('never dead-letters a 400 or 413 whose body is not the contract, nor a contract body with the wrong code', () => {
    for (const code of [undefined, 'NOT_A_CODE', 'UNAVAILABLE', 'PAYLOAD_TOO_LARGE'] as const) {
      const outcome = { status: 400, itemCount: 1, ...(code ? { code } : {}) };
      expect(classifyRequest(outcome).action).toBe('retry');
    }
    expect(classifyRequest({ status: 413, itemCount: 1 }).action).toBe('retry');
    expect(classifyRequest({ status: 413, itemCount: 1, code: 'INVALID_BATCH' }).action).toBe('retry');
  });

  it('still splits a 413 from a proxy, as a smaller request may pass it', () => {
    expect(classifyRequest({ status: 413, itemCount: 2 })).toEqual({ action: 'split', reason: 'HTTP_413' });
  });

  it('retries a 4xx whose contract code says retryable', () => {
    expect(classifyRequest({ status: 409, itemCount: 1, code: 'RATE_LIMITED' }).action).toBe('retry');
  });

  it('dead-letters nothing for any status but a contract-shaped 400 or 413 of one item', () => {
    for (let status = 100; status < 600; status++) {
      for (const code of [undefined, ...Object.keys(REQUEST_ERRORS)]) {
        const decision = classifyRequest({ status, itemCount: 1, ...(code ? { code } : {}) });
        const itemFault =
          (status === 400 && code === 'INVALID_BATCH') || (status === 413 && code === 'PAYLOAD_TOO_LARGE');
        expect(decision.action === 'dead-letter').toBe(itemFault);
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { classifyRequest, ITEM_STATUSES, itemAction, parseRetryAfter } from '../src/index.js';

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
    [200, 5, { action: 'per-item' }],
    [undefined, 5, { action: 'retry', afterMs: undefined, reason: 'NETWORK_ERROR' }],
    [500, 5, { action: 'retry', afterMs: undefined, reason: 'HTTP_500' }],
    [502, 5, { action: 'retry', afterMs: undefined, reason: 'HTTP_502' }],
    [408, 5, { action: 'retry', afterMs: undefined, reason: 'HTTP_408' }],
    [413, 5, { action: 'split', reason: 'HTTP_413' }],
    [413, 1, { action: 'dead-letter', reason: 'HTTP_413' }],
    [400, 4, { action: 'split', reason: 'HTTP_400' }],
    [400, 1, { action: 'dead-letter', reason: 'HTTP_400' }],
    [415, 1, { action: 'dead-letter', reason: 'HTTP_415' }],
    [401, 5, { action: 'pause', reason: 'HTTP_401' }],
    [403, 1, { action: 'pause', reason: 'HTTP_403' }],
  ] as const)('HTTP %s with %i items', (status, itemCount, decision) => {
    expect(classifyRequest({ status, itemCount, nowMs: now })).toEqual(decision);
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

  it('retries a 4xx whose contract code says retryable', () => {
    expect(classifyRequest({ status: 409, itemCount: 1, code: 'RATE_LIMITED' }).action).toBe('retry');
  });
});

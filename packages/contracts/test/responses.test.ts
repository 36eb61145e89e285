import { describe, expect, it } from 'vitest';
import {
  countStatuses,
  DEFAULT_LIMITS,
  ErrorBodyReadSchema,
  ErrorBodySchema,
  errorBody,
  httpStatusOf,
  IngestResponseReadSchema,
  IngestResponseSchema,
  ItemStatusResponseReadSchema,
  ItemStatusResponseSchema,
  LimitsReadSchema,
  LimitsSchema,
  REQUEST_ERRORS,
} from '../src/index.js';

describe('responses', () => {
  it('parses the SPEC batch response example', () => {
    const response = {
      results: [
        { id: 'a', status: 'stored' },
        { id: 'b', status: 'conflict', error: { code: 'IDEMPOTENCY_CONFLICT', message: 'different hash' } },
      ],
      counts: { stored: 1, duplicate: 0, conflict: 1, rejected: 0, retry: 0 },
    };
    const parsed = IngestResponseSchema.parse(response);
    expect(parsed).toEqual(response);
    expect(countStatuses(parsed.results)).toEqual(response.counts);
  });

  it('reads, as a client, answers of a newer server: unknown keys ignored, unknown codes kept, statuses still checked', () => {
    const counts = { stored: 1, duplicate: 0, conflict: 0, rejected: 1, retry: 0, deferred: 0 };
    const newer = {
      results: [
        { id: 'a', status: 'stored', region: 'eu' },
        { id: 'b', status: 'rejected', error: { code: 'QUOTA_EXCEEDED', message: 'over quota', detail: 1 } },
      ],
      counts,
      requestId: 'r-1',
    };
    expect(IngestResponseSchema.safeParse(newer).success).toBe(false);
    expect(IngestResponseReadSchema.parse(newer)).toEqual({
      results: [
        { id: 'a', status: 'stored' },
        { id: 'b', status: 'rejected', error: { code: 'QUOTA_EXCEEDED', message: 'over quota' } },
      ],
      counts: { stored: 1, duplicate: 0, conflict: 0, rejected: 1, retry: 0 },
    });
    expect(
      IngestResponseReadSchema.safeParse({ results: [{ id: 'a', status: 'deferred' }], counts }).success,
    ).toBe(false);

    const error = { error: { code: 'KEY_EXPIRED', message: 'expired', retryable: false, docs: 'https://x' } };
    expect(ErrorBodySchema.safeParse(error).success).toBe(false);
    expect(ErrorBodyReadSchema.parse(error)).toEqual({
      error: { code: 'KEY_EXPIRED', message: 'expired', retryable: false },
    });
    expect(LimitsReadSchema.parse({ ...DEFAULT_LIMITS, maxFutureThing: 3 })).toEqual(DEFAULT_LIMITS);
    const item = {
      id: 'a',
      type: 't',
      ts: 1,
      receivedAt: 2,
      kind: 'blob',
      hash: '0'.repeat(64),
      shard: 3,
      blob: {
        state: 'uploaded',
        size: 1,
        contentType: 'a/b',
        sha256: '0'.repeat(64),
        attempts: 1,
        tier: 'cold',
      },
    };
    expect(ItemStatusResponseSchema.safeParse(item).success).toBe(false);
    expect(ItemStatusResponseReadSchema.parse(item)).not.toHaveProperty('shard');
  });

  it('refuses unknown statuses and unknown item error codes', () => {
    const counts = { stored: 0, duplicate: 0, conflict: 0, rejected: 0, retry: 0 };
    expect(IngestResponseSchema.safeParse({ results: [{ id: 'a', status: 'ok' }], counts }).success).toBe(
      false,
    );
    expect(
      IngestResponseSchema.safeParse({
        results: [{ id: 'a', status: 'rejected', error: { code: 'NOPE', message: '' } }],
        counts,
      }).success,
    ).toBe(false);
  });

  it('parses item status for records and blobs', () => {
    const record = { id: 'a', type: 't', ts: 1, receivedAt: 2, kind: 'record', hash: 'a'.repeat(64) };
    expect(ItemStatusResponseSchema.safeParse(record).success).toBe(true);
    const blob = {
      ...record,
      kind: 'blob',
      blob: {
        state: 'uploaded',
        size: 3,
        contentType: 'image/png',
        sha256: 'b'.repeat(64),
        objectKey: 'k',
        attempts: 1,
      },
    };
    expect(ItemStatusResponseSchema.safeParse(blob).success).toBe(true);
    expect(
      ItemStatusResponseSchema.safeParse({ ...blob, blob: { ...blob.blob, state: 'lost' } }).success,
    ).toBe(false);
  });

  it('publishes the SPEC default limits', () => {
    expect(LimitsSchema.parse(DEFAULT_LIMITS)).toMatchObject({
      maxBatchItems: 1000,
      maxBatchBytes: 4 * 1024 * 1024,
      maxItemDataBytes: 64 * 1024,
      maxBlobsPerRequest: 100,
      maxBlobRequestBytes: 64 * 1024 * 1024,
      maxBlobBytes: 32 * 1024 * 1024,
    });
  });
});

describe('request error codes', () => {
  it.each([
    ['INVALID_BATCH', 400, false],
    ['UNAUTHORIZED', 401, false],
    ['NOT_FOUND', 404, false],
    ['PAYLOAD_TOO_LARGE', 413, false],
    ['UNSUPPORTED_MEDIA_TYPE', 415, false],
    ['RATE_LIMITED', 429, true],
    ['UNAVAILABLE', 503, true],
  ] as const)('%s is HTTP %i, retryable %s', (code, status, retryable) => {
    expect(httpStatusOf(code)).toBe(status);
    expect(errorBody(code, 'm')).toEqual({ error: { code, message: 'm', retryable } });
    expect(ErrorBodySchema.parse(errorBody(code, 'm')).error.retryable).toBe(retryable);
  });

  it('every code is SCREAMING_SNAKE and maps to a 4xx or 5xx', () => {
    for (const [code, { status }] of Object.entries(REQUEST_ERRORS)) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('refuses error bodies with unknown codes', () => {
    expect(ErrorBodySchema.safeParse({ error: { code: 'OOPS', message: '', retryable: true } }).success).toBe(
      false,
    );
  });
});

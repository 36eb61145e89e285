import { describe, expect, it } from 'vitest';
import { type ConnectRetry, retryWhileUnavailable } from '../src/db/connect-retry.js';
import { DatabaseStartError } from '../src/errors.js';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:5432'), { code: 'ECONNREFUSED' });

describe('retryWhileUnavailable (opening the database at start)', () => {
  it('retries while the database is unreachable, reporting each retry, and returns what the open gave', async () => {
    let calls = 0;
    const retries: ConnectRetry[] = [];
    const opened = await retryWhileUnavailable(
      async () => {
        calls += 1;
        if (calls < 4) throw refused();
        return 'database';
      },
      { totalMs: 10_000, baseDelayMs: 2, onRetry: (retry) => retries.push(retry) },
    );
    expect(opened).toBe('database');
    expect(retries.map(({ attempt, reason }) => ({ attempt, reason }))).toEqual(
      [1, 2, 3].map((attempt) => ({ attempt, reason: 'connect ECONNREFUSED 10.0.0.9:5432' })),
    );
    // Backoff doubles (with jitter within the upper half of each step).
    expect(retries.map(({ retryInMs }) => retryInMs)).toEqual([
      expect.toSatisfy((ms: number) => ms >= 1 && ms <= 2),
      expect.toSatisfy((ms: number) => ms >= 2 && ms <= 4),
      expect.toSatisfy((ms: number) => ms >= 4 && ms <= 8),
    ]);
  });

  it('gives up once the next attempt would start after the budget, saying how often it tried and why', async () => {
    let calls = 0;
    const failure = await retryWhileUnavailable(
      async () => {
        calls += 1;
        throw refused();
      },
      { totalMs: 60, baseDelayMs: 10, maxDelayMs: 20 },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseStartError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^database unreachable after ${calls} attempts in \\d+\\.\\d s: connect ECONNREFUSED`),
    );
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('throws any other error at once: a bug or a refused login is not waited out', async () => {
    let calls = 0;
    const bug = new TypeError('not a function');
    await expect(
      retryWhileUnavailable(
        async () => {
          calls += 1;
          throw bug;
        },
        { totalMs: 10_000 },
      ),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });
});

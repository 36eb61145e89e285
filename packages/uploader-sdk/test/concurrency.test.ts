import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../src/concurrency.js';

function controller(initial = 1) {
  let now = 0;
  const changes: number[] = [];
  const aimd = new AdaptiveConcurrency(
    { min: 1, max: 8, latencyTargetMs: 500, initial, onChange: (limit) => changes.push(limit) },
    () => now,
  );
  return {
    aimd,
    changes,
    tick: (ms: number) => {
      now += ms;
      return now;
    },
    now: () => now,
  };
}

describe('AdaptiveConcurrency', () => {
  it('adds one per full window of fast successes, up to the maximum', () => {
    const { aimd, changes, now } = controller();
    for (let i = 0; i < 200; i++) aimd.record({ startedAt: now(), latencyMs: 20, overloaded: false });
    expect(aimd.limit).toBe(8);
    expect(changes).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('needs as many successes as the current limit to grow', () => {
    const { aimd, now } = controller(4);
    for (let i = 0; i < 3; i++) aimd.record({ startedAt: now(), latencyMs: 20, overloaded: false });
    expect(aimd.limit).toBe(4);
    aimd.record({ startedAt: now(), latencyMs: 20, overloaded: false });
    expect(aimd.limit).toBe(5);
  });

  it('halves on overload (429/503/timeout) but not below the minimum', () => {
    const { aimd, tick } = controller(8);
    aimd.record({ startedAt: tick(1), latencyMs: 20, overloaded: true });
    expect(aimd.limit).toBe(4);
    aimd.record({ startedAt: tick(1), latencyMs: 20, overloaded: true });
    aimd.record({ startedAt: tick(1), latencyMs: 20, overloaded: true });
    aimd.record({ startedAt: tick(1), latencyMs: 20, overloaded: true });
    expect(aimd.limit).toBe(1);
  });

  it('treats a request slower than the latency target as congestion', () => {
    const { aimd, tick } = controller(6);
    aimd.record({ startedAt: tick(1), latencyMs: 900, overloaded: false });
    expect(aimd.limit).toBe(3);
  });

  it('decreases once for requests that were already in flight when it decreased', () => {
    const { aimd, tick } = controller(8);
    const sentTogether = tick(1);
    tick(10);
    for (let i = 0; i < 8; i++) aimd.record({ startedAt: sentTogether, latencyMs: 20, overloaded: true });
    expect(aimd.limit).toBe(4);
  });

  it('refuses bounds that make no sense', () => {
    expect(() => new AdaptiveConcurrency({ min: 0, max: 4, latencyTargetMs: 1 })).toThrow(RangeError);
    expect(() => new AdaptiveConcurrency({ min: 5, max: 4, latencyTargetMs: 1 })).toThrow(RangeError);
  });
});

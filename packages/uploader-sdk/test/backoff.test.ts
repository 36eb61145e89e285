import { describe, expect, it } from 'vitest';
import { BackoffGate, backoffDelay, isWaitAbortedError, sleep } from '../src/backoff.js';

const policy = { baseMs: 100, maxMs: 2000 };

describe('backoffDelay', () => {
  it('grows the ceiling exponentially from the base and caps it', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, policy, undefined, top)).toBe(99);
    expect(backoffDelay(1, policy, undefined, top)).toBe(199);
    expect(backoffDelay(3, policy, undefined, top)).toBe(799);
    expect(backoffDelay(10, policy, undefined, top)).toBe(1999);
    expect(backoffDelay(5000, policy, undefined, top)).toBe(1999);
  });

  it('uses full jitter: anywhere from zero to the ceiling', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, policy));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1600);
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(1400);
  });

  it('is never sooner than Retry-After, even above the cap', () => {
    expect(backoffDelay(0, policy, 5000, () => 0.5)).toBe(5000);
    expect(backoffDelay(8, policy, 10, () => 0.5)).toBe(1000);
  });

  it('is never later than capMs, nor than a timer can hold, whatever Retry-After asks', () => {
    expect(backoffDelay(0, { ...policy, capMs: 3_600_000 }, 2_592_000_000)).toBe(3_600_000);
    expect(backoffDelay(0, policy, 2_592_000_000)).toBe(2 ** 31 - 1);
  });
});

describe('BackoffGate', () => {
  it('grows once per outage round, not once per failed request of that round', () => {
    let now = 1000;
    const gate = new BackoffGate(
      policy,
      () => now,
      () => 0.999999,
    );
    const started = now;
    expect(gate.failure(started)).toBe(99);
    // Requests started before the first failure was seen report the same outage.
    gate.failure(started);
    gate.failure(started);
    expect(gate.attempt).toBe(1);
    now += 100;
    expect(gate.failure(now)).toBe(199);
    expect(gate.attempt).toBe(2);
    gate.success();
    now += 1000;
    expect(gate.failure(now)).toBe(99);
  });

  it('honours a later Retry-After even from a request of the same round', () => {
    let now = 0;
    const gate = new BackoffGate(
      policy,
      () => now,
      () => 0,
    );
    gate.failure(0);
    expect(gate.failure(-1, 3000)).toBe(3000);
    now = 2999;
    expect(gate.remainingMs()).toBe(1);
  });

  it('holds waiters until the delay passed, without spinning', async () => {
    const gate = new BackoffGate({ baseMs: 150, maxMs: 150 }, Date.now, () => 0.999999);
    gate.failure(Date.now());
    const started = performance.now();
    await gate.wait();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('lets one probe through after an outage; the rest wait for its verdict', async () => {
    const gate = new BackoffGate({ baseMs: 20, maxMs: 20 });
    gate.failure(Date.now());
    const passed: string[] = [];
    const a = gate.wait().then(() => passed.push('a'));
    const b = gate.wait().then(() => passed.push('b'));
    await sleep(80);
    expect(passed).toHaveLength(1);
    gate.success();
    await Promise.all([a, b]);
    expect(passed.sort()).toEqual(['a', 'b']);
  });

  it('pauses until resumed, and resume releases waiters at once', async () => {
    const gate = new BackoffGate(policy);
    gate.pause(60_000);
    expect(gate.paused).toBe(true);
    let released = false;
    const waiting = gate.wait().then(() => {
      released = true;
    });
    await sleep(30);
    expect(released).toBe(false);
    gate.resume();
    await waiting;
    expect(released).toBe(true);
    expect(gate.paused).toBe(false);
  });

  it('stops waiting with WaitAbortedError when the signal aborts', async () => {
    const gate = new BackoffGate(policy);
    gate.pause(60_000);
    const controller = new AbortController();
    const waiting = gate.wait(controller.signal);
    controller.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect(isWaitAbortedError(error)).toBe(true);
  });
});

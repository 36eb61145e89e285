import { describe, expect, it } from 'vitest';
import { Gate } from '../src/db/gate.js';
import { DatabaseOverloadedError } from '../src/errors.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('Gate, the admission queue in front of the pool', () => {
  it('runs up to its concurrency, queues up to maxWaiting, and refuses the rest at once', async () => {
    const gate = new Gate({ concurrency: 2, maxWaiting: 1, timeoutMs: 10_000 });
    const release = deferred();
    const order: string[] = [];
    const task = (name: string) =>
      gate.run(async () => {
        order.push(`start ${name}`);
        await release.promise;
        return name;
      });
    const a = task('a');
    const b = task('b');
    const c = task('c');
    await expect(task('d')).rejects.toBeInstanceOf(DatabaseOverloadedError);
    expect(order).toEqual(['start a', 'start b']);
    expect([gate.running, gate.waiting]).toEqual([2, 1]);
    release.resolve();
    expect(await Promise.all([a, b, c])).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['start a', 'start b', 'start c']);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('refuses a waiter that gets no slot in time, and frees slots when operations fail', async () => {
    const gate = new Gate({ concurrency: 1, maxWaiting: 5, timeoutMs: 50 });
    const release = deferred();
    const holder = gate.run(() => release.promise);
    await expect(gate.run(async () => 'late')).rejects.toThrow(/no database connection within 50 ms/);
    release.resolve();
    await holder;
    await expect(gate.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed');
    expect(await gate.run(async () => 'after')).toBe('after');
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('runs background work only on a free slot, never taking a waiting place a request could have', async () => {
    const gate = new Gate({ concurrency: 1, maxWaiting: 1, timeoutMs: 10_000 });
    const release = deferred();
    const request = gate.run(() => release.promise);
    expect(await gate.tryRun(async () => 'housekeeping')).toBeUndefined();
    const waiting = gate.run(async () => 'second request');
    expect([gate.running, gate.waiting]).toEqual([1, 1]);
    release.resolve();
    await request;
    expect(await waiting).toBe('second request');
    expect(await gate.tryRun(async () => 'housekeeping')).toBe('housekeeping');
    await expect(gate.tryRun(() => Promise.reject(new Error('query failed')))).rejects.toThrow(
      'query failed',
    );
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });
});

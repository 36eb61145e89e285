import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../src/events.js';

interface Events {
  ping: number;
}

describe('event listeners', () => {
  it('a once listener removed with off() before the event never runs', () => {
    const emitter = new TypedEmitter<Events>();
    const seen: number[] = [];
    const listener = (value: number): void => {
      seen.push(value);
    };
    emitter.once('ping', listener);
    emitter.off('ping', listener);
    emitter.emit('ping', 1);
    emitter.emit('ping', 2);
    expect(seen).toEqual([]);
    expect(emitter.listenerCount('ping')).toBe(0);
  });

  it('a once listener runs exactly once, and its returned remover works too', () => {
    const emitter = new TypedEmitter<Events>();
    const seen: number[] = [];
    emitter.once('ping', (value) => seen.push(value));
    const remove = emitter.once('ping', (value) => seen.push(value * 10));
    remove();
    emitter.emit('ping', 1);
    emitter.emit('ping', 2);
    expect(seen).toEqual([1]);
    expect(emitter.listenerCount('ping')).toBe(0);
  });

  it('a listener removed by an earlier listener of the same event does not run', () => {
    const emitter = new TypedEmitter<Events>();
    const seen: string[] = [];
    const second = (): void => {
      seen.push('second');
    };
    emitter.on('ping', () => {
      seen.push('first');
      emitter.off('ping', second);
    });
    emitter.once('ping', second);
    emitter.emit('ping', 1);
    expect(seen).toEqual(['first']);
  });
});

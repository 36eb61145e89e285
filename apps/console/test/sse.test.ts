import { describe, expect, it } from 'vitest';
import { reconnectDelayMs, SseParser } from '../src/sse.js';

describe('the server-sent events parser', () => {
  it('returns events split across chunks, with their names and multi-line data', () => {
    const parser = new SseParser();
    expect(parser.push(': hello\n\nevent: it')).toEqual([]);
    expect(parser.push('em\ndata: {"a":\ndata: 1}\nid: 7\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'item', data: '{"a":\n1}', id: '7' }]);
    expect(parser.push('data: x\r\n\r\ndata:y\r')).toEqual([{ event: 'message', data: 'x', id: '7' }]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'y', id: '7' }]);
  });

  it('ignores comments, unknown fields and events without data', () => {
    const parser = new SseParser();
    expect(parser.push(':keep-alive\n\nevent: item\n\nretry: 10\nfoo: bar\n\n')).toEqual([]);
  });
});

describe('reconnect backoff', () => {
  it('doubles from about 0.5 s and stays under 15 s (±25 % jitter)', () => {
    expect(reconnectDelayMs(1, () => 0.5)).toBe(500);
    expect(reconnectDelayMs(2, () => 0.5)).toBe(1000);
    expect(reconnectDelayMs(50, () => 0.5)).toBe(15_000);
    expect(reconnectDelayMs(50, () => 1)).toBe(18_750);
    expect(reconnectDelayMs(1, () => 0)).toBe(375);
  });
});

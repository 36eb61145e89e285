import type { LiveItemEvent } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { nextNotifyPayload } from '../src/admin/live-feed.js';

function event(i: number, long: boolean): LiveItemEvent {
  return {
    source: long ? 's'.repeat(64) : 'web',
    id: long ? `${String(i).padStart(2, '0')}${'x'.repeat(126)}` : `e-${i}`,
    kind: 'record',
    type: long ? '😀'.repeat(128) : 'tap',
    status: 'stored',
    size: 65_536,
    receivedAt: 1_795_000_000_000,
    skipped: 1_000_000,
  };
}

describe('NOTIFY payloads of the live feed', () => {
  it('holds ten short events in one payload', () => {
    const outbox = Array.from({ length: 25 }, (_, i) => event(i, false));
    const { text, count } = nextNotifyPayload(outbox);
    expect(count).toBe(10);
    expect(JSON.parse(text)).toEqual(outbox.slice(0, 10));
  });

  it('stays under PostgreSQL’s 8000-byte limit with events of the longest legal names', () => {
    const outbox = Array.from({ length: 25 }, (_, i) => event(i, true));
    expect(Buffer.byteLength(JSON.stringify(outbox.slice(0, 10)))).toBeGreaterThan(8000);
    const { text, count } = nextNotifyPayload(outbox);
    expect(Buffer.byteLength(text)).toBeLessThan(8000);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(10);
    expect(JSON.parse(text)).toEqual(outbox.slice(0, count));
  });
});

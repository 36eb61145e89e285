import { DEFAULT_LIMITS } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { recordIdOf, serializeRecord } from '../src/item-input.js';

// The lane reads each queued record's id back out of its payload (to match the server's answers); payloads
// are views into the queue's read buffers, at any offset.
describe('record id of a queued payload', () => {
  it('reads back the id a record was serialized with, from a Buffer or a plain view at an offset', () => {
    const ids = ['a', 'x'.repeat(128), 'order-17:line.3_A', undefined];
    for (const id of ids) {
      const { payload, id: written } = serializeRecord(
        {
          type: 'évènement "quoted"',
          data: { text: 'ünïcode ✓', n: 1 },
          ...(id === undefined ? {} : { id }),
        },
        DEFAULT_LIMITS,
      );
      if (id !== undefined) expect(written).toBe(id);
      const framed = Buffer.concat([Buffer.from('header'), payload, Buffer.from('next frame')]);
      const view = framed.subarray(6, 6 + payload.length);
      const plain = new Uint8Array(framed.buffer, framed.byteOffset + 6, payload.length);
      expect(recordIdOf(payload)).toBe(written);
      expect(recordIdOf(view)).toBe(written);
      expect(recordIdOf(plain)).toBe(written);
    }
  });

  it('falls back to parsing a payload that does not start with its id', () => {
    expect(recordIdOf(Buffer.from('{"type":"t","id":"late"}'))).toBe('late');
    expect(recordIdOf(Buffer.from('{"id":"x"}'))).toBe('x');
  });
});

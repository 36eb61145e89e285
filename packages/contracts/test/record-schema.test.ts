import { describe, expect, it } from 'vitest';
import { BatchEnvelopeSchema, BatchRequestSchema, RecordItemSchema } from '../src/index.js';

const valid = {
  id: '0193f1a2-7c1e-7000-8000-000000000000',
  type: 'click',
  ts: 1766557428498,
  data: { x: 1 },
};

describe('record items', () => {
  it('accepts the SPEC example and any JSON data, null included', () => {
    expect(RecordItemSchema.safeParse(valid).success).toBe(true);
    for (const data of [null, 0, 'text', [1, [2]], { nested: { deep: true } }, '🙂 ünïcode']) {
      expect(RecordItemSchema.safeParse({ ...valid, data }).success).toBe(true);
    }
    expect(RecordItemSchema.safeParse({ ...valid, hash: 'a'.repeat(64) }).success).toBe(true);
  });

  it('accepts ids and types at their length limits and every allowed character', () => {
    expect(RecordItemSchema.safeParse({ ...valid, id: 'a'.repeat(128), type: 'b'.repeat(128) }).success).toBe(
      true,
    );
    expect(RecordItemSchema.safeParse({ ...valid, id: 'Az09._:-', type: 'Az09._:-' }).success).toBe(true);
  });

  it.each([
    ['an empty id', { id: '' }],
    ['a 129-char id', { id: 'a'.repeat(129) }],
    ['a space in the id', { id: 'a b' }],
    ['a slash in the id', { id: 'a/b' }],
    ['a non-ASCII id', { id: 'é' }],
    ['a numeric id', { id: 5 }],
    ['an empty type', { type: '' }],
    ['a 129-char type', { type: 't'.repeat(129) }],
    ['a newline in the type', { type: 'page\nview' }],
    ['a NUL in the type', { type: 'a\u0000' }],
    ['a C1 control in the type', { type: 'a\u0085' }],
    ['a DEL in the type', { type: 'a\u007f' }],
    ['a lone surrogate in the type', { type: 'a\ud800' }],
    ['a fractional ts', { ts: 1.5 }],
    ['a negative ts', { ts: -1 }],
    ['a string ts', { ts: '1766557428498' }],
    ['a ts beyond safe integers', { ts: 2 ** 53 }],
    ['an uppercase hash', { hash: 'A'.repeat(64) }],
    ['a short hash', { hash: 'a'.repeat(63) }],
  ])('rejects %s', (_name, patch) => {
    expect(RecordItemSchema.safeParse({ ...valid, ...patch }).success).toBe(false);
  });

  it('accepts analytics-style type names, counting characters rather than UTF-16 units', () => {
    for (const type of ['Order Completed', 'page view', 'checkout/step 2', 'Ünïcode ✓', '🙂'.repeat(128)]) {
      expect(RecordItemSchema.safeParse({ ...valid, type }).success, type).toBe(true);
    }
  });

  it('rejects a missing field and extra fields', () => {
    const { data: _data, ...withoutData } = valid;
    expect(RecordItemSchema.safeParse(withoutData).success).toBe(false);
    expect(RecordItemSchema.safeParse({ ...valid, extra: 1 }).success).toBe(false);
  });

  it('rejects data that is not JSON', () => {
    expect(RecordItemSchema.safeParse({ ...valid, data: undefined }).success).toBe(false);
    expect(RecordItemSchema.safeParse({ ...valid, data: { f: () => 1 } }).success).toBe(false);
    expect(RecordItemSchema.safeParse({ ...valid, data: Number.NaN }).success).toBe(false);
  });

  it('rejects data the database cannot store and nesting past the limit, without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100_000; level++) deep = [deep];
    const result = RecordItemSchema.safeParse({ ...valid, data: deep });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/deeper than 64/);
    expect(RecordItemSchema.safeParse({ ...valid, data: { a: 'x\u0000' } }).success).toBe(false);
    expect(RecordItemSchema.safeParse({ ...valid, data: ['\udc00'] }).success).toBe(false);
  });
});

describe('batch envelope', () => {
  it('requires an object with an items array and nothing else', () => {
    expect(BatchEnvelopeSchema.safeParse({ items: [1, 'not an item'] }).success).toBe(true);
    expect(BatchEnvelopeSchema.safeParse({ items: {} }).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse([]).success).toBe(false);
    expect(BatchEnvelopeSchema.safeParse({ items: [], more: 1 }).success).toBe(false);
  });

  it('a well-formed request has at least one valid item', () => {
    expect(BatchRequestSchema.safeParse({ items: [valid] }).success).toBe(true);
    expect(BatchRequestSchema.safeParse({ items: [] }).success).toBe(false);
    expect(BatchRequestSchema.safeParse({ items: [{ ...valid, id: '' }] }).success).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  checkBlobMeta,
  checkRecordData,
  isItemProblem,
  jsonValueProblem,
  MAX_JSON_DEPTH,
  portableUtf8Length,
  recordHash,
  recordHashOfCanonical,
} from '../src/index.js';

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}

function sparse(): unknown[] {
  const array: unknown[] = [];
  array[1] = 1;
  return array;
}

class Point {
  constructor(readonly x: number) {}
}

/** True when `value` holds a key the rule refuses on purpose: `__proto__`, or `constructor` holding `prototype`. */
function hasPollutingKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(
    ([key, entry]) =>
      key === '__proto__' ||
      (key === 'constructor' &&
        typeof entry === 'object' &&
        entry !== null &&
        Object.hasOwn(entry, 'prototype')) ||
      hasPollutingKey(entry),
  );
}

describe('the JSON rule shared by the SDK and the server', () => {
  it('accepts every JSON value without a polluting key, null included, and what JSON.parse returns', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        // fast-check generates `__proto__` keys now and then; the rule refuses those (tested below).
        fc.pre(!hasPollutingKey(value));
        expect(jsonValueProblem(value)).toBeUndefined();
        expect(jsonValueProblem(JSON.parse(JSON.stringify(value)))).toBeUndefined();
      }),
    );
  });

  it('leaves out a property whose toJSON() returns undefined and refuses such an array element', () => {
    const gone = { toJSON: () => undefined };
    expect(jsonValueProblem({ a: 1, gone })).toBeUndefined();
    expect(checkRecordData({ a: 1, gone }, 100)).toEqual({ canonical: '{"a":1}', bytes: 7 });
    expect(jsonValueProblem({ list: [gone] })).toMatch(/value\.list\[0\] is undefined/);
  });

  it('accepts a Date through its toJSON, a null-prototype object, and leaves out undefined properties', () => {
    expect(jsonValueProblem({ at: new Date(0) })).toBeUndefined();
    expect(jsonValueProblem(Object.assign(Object.create(null), { a: 1 }))).toBeUndefined();
    expect(jsonValueProblem({ a: undefined, b: 1 })).toBeUndefined();
    expect(jsonValueProblem({ constructor: 'a name', prototype: 1 })).toBeUndefined();
  });

  // Keys are checked once and remembered: a key canonicalized without the protocol's rules (which allow
  // NUL) must still be refused under them, and a remembered key must not hide a polluting one.
  it('refuses a bad key whatever was canonicalized before it', () => {
    expect(canonicalJson({ 'k\u0000': 1 })).toBe('{"k\\u0000":1}');
    expect(jsonValueProblem({ 'k\u0000': 1 })).toMatch(/a key of value contains U\+0000/);
    expect(jsonValueProblem({ ok: 1 })).toBeUndefined();
    const polluting = Object.defineProperty({}, '__proto__', { value: 1, enumerable: true });
    expect(jsonValueProblem({ ok: polluting })).toMatch(/prototype pollution/);
    expect(jsonValueProblem(JSON.parse('{"a":{"__proto__":{"x":1}}}'))).toMatch(/prototype pollution/);
  });

  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/deeper than 64 levels/);
  });

  it.each([
    ['a sparse array', { list: sparse() }, /data\.list\[0\] is a hole in a sparse array/],
    ['an undefined array element', [1, undefined], /data\[1\] is undefined/],
    ['NaN', { n: Number.NaN }, /data\.n is NaN/],
    ['Infinity', [Number.POSITIVE_INFINITY], /is Infinity/],
    ['a bigint', { n: 1n }, /is a bigint/],
    ['a function', { f: () => 1 }, /is a function/],
    ['a symbol', [Symbol('s')], /is a symbol/],
    ['a Map', { m: new Map([[1, 2]]) }, /is a Map, not a plain object/],
    ['a Set', new Set([1]), /is a Set/],
    ['a class instance', { p: new Point(1) }, /is a Point/],
    ['a NUL in a string', { s: 'a\u0000b' }, /data\.s contains U\+0000/],
    ['a NUL in a key', { 'a\u0000': 1 }, /a key of data contains U\+0000/],
    ['a lone high surrogate', ['\ud800x'], /unpaired UTF-16 surrogate/],
    ['a lone low surrogate in a key', { '\udc00': 1 }, /unpaired UTF-16 surrogate/],
    ['undefined itself', undefined, /data is undefined/],
    [
      'a __proto__ key',
      JSON.parse('{"a":{"__proto__":{"x":1}}}'),
      /data\.a\.__proto__ is a key that JSON parsers refuse/,
    ],
    [
      'a constructor.prototype key',
      JSON.parse('[{"constructor":{"prototype":{}}}]'),
      /data\[0\]\.constructor/,
    ],
  ])('refuses %s, naming where', (_name, value, message) => {
    expect(jsonValueProblem(value, 'data')).toMatch(message);
  });

  it('accepts paired surrogates (emoji) in strings and keys', () => {
    expect(jsonValueProblem({ '🙂': '🙂 ok' })).toBeUndefined();
  });

  it('checks a hostile nesting of a million levels without overflowing the stack', () => {
    expect(jsonValueProblem(nested(1_000_000))).toMatch(/deeper than/);
  });
});

describe('record data and blob meta checks', () => {
  it('measures data as the UTF-8 bytes of its canonical JSON', () => {
    const data = { b: 'é', a: 1 };
    const checked = checkRecordData(data, 100);
    expect(checked).toEqual({ canonical: '{"a":1,"b":"é"}', bytes: 16 });
    expect(checkRecordData(data, 15)).toEqual({
      code: 'ITEM_TOO_LARGE',
      message: 'data is 16 bytes; the limit is 15',
    });
    expect(checkRecordData('x'.repeat(10), 12)).toEqual({ canonical: `"${'x'.repeat(10)}"`, bytes: 12 });
  });

  // Node counts natively; other runtimes count in JavaScript. Both must agree with the bytes sent.
  it('counts UTF-8 bytes the same natively and in plain JavaScript', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = new TextEncoder().encode(text).length;
        expect(portableUtf8Length(text)).toBe(bytes);
        const checked = checkRecordData({ text }, Number.MAX_SAFE_INTEGER);
        expect(isItemProblem(checked) ? -1 : checked.bytes).toBe(
          new TextEncoder().encode(isItemProblem(checked) ? '' : checked.canonical).length,
        );
      }),
    );
    expect(portableUtf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
  });

  it('refuses data that is not JSON as INVALID_ITEM', () => {
    const checked = checkRecordData({ list: sparse() }, 1000);
    expect(isItemProblem(checked) && checked.code).toBe('INVALID_ITEM');
  });

  it('hashes the canonical text exactly as recordHash hashes the value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(), fc.jsonValue(), (type, ts, data) => {
        const checked = checkRecordData(data, Number.MAX_SAFE_INTEGER);
        if (isItemProblem(checked)) return; // fast-check may generate lone surrogates and NUL
        expect(recordHashOfCanonical(type, ts, checked.canonical)).toBe(recordHash({ type, ts, data }));
      }),
    );
  });

  it('checks blob meta: an object, the JSON rule, and its canonical size', () => {
    expect(checkBlobMeta(undefined, 10)).toBeUndefined();
    expect(checkBlobMeta({ a: 1 }, 7)).toBeUndefined();
    expect(checkBlobMeta({ a: 1 }, 6)).toEqual({
      code: 'ITEM_TOO_LARGE',
      message: 'meta is 7 bytes; the limit is 6',
    });
    expect(checkBlobMeta([1], 100)?.code).toBe('INVALID_ITEM');
    expect(checkBlobMeta({ a: '\u0000' }, 100)?.message).toMatch(/meta\.a contains U\+0000/);
  });
});

import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/index.js';

describe('canonical JSON (RFC 8785)', () => {
  it('reproduces the RFC 8785 section 3.2.2 example byte for byte', () => {
    const input = JSON.parse(
      String.raw`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
    );
    expect(canonicalJson(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts keys by UTF-16 code units at every depth, keeping array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: null } })).toBe('{"a":{"c":null,"d":[3,1,2]},"b":1}');
    // U+20AC (0x20AC) sorts before U+1F600 (surrogates 0xD83D...) and after "z".
    expect(canonicalJson({ '😀': 1, '€': 2, z: 3 })).toBe('{"z":3,"€":2,"😀":1}');
  });

  // JSON.stringify calls a value's toJSON() once and writes what it returns as it is, even when that has a
  // toJSON() of its own (an object returning itself, a wrapper returning a wrapper).
  it('calls toJSON() once per value, as JSON.stringify does', () => {
    const self = {
      a: 1,
      toJSON() {
        return this;
      },
    };
    const wrapper = { toJSON: () => ({ b: 2, toJSON: () => 'never called' }) };
    const gone = { toJSON: () => undefined };
    const named = { toJSON: (key: string) => `called for ${JSON.stringify(key)}` };
    const cases = [
      self,
      { x: self, y: [self] },
      wrapper,
      { x: wrapper, at: new Date(0) },
      // A toJSON() returning undefined leaves its property out, and writes null in an array.
      { a: 1, gone, list: [gone, 2] },
      // toJSON() is given its property's key (an array index as a string, '' at the top).
      { named, list: [named] },
      named,
    ];
    for (const value of cases) {
      expect(canonicalJson(value)).toBe(canonicalize(JSON.parse(JSON.stringify(value))));
    }
    expect(canonicalJson(self)).toBe('{"a":1}');
  });

  it('writes numbers in ECMAScript shortest form', () => {
    expect(canonicalJson([1, 1.0, 1e21, 1e-7, -0, 0.1, 100, 123456789012345680000])).toBe(
      '[1,1,1e+21,1e-7,0,0.1,100,123456789012345680000]',
    );
  });

  it('escapes only what JSON requires and keeps other unicode literal', () => {
    expect(canonicalJson({ s: 'é\u0007\t"\\/' })).toBe('{"s":"é\\u0007\\t\\"\\\\/"}');
  });

  it('leaves out undefined properties as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ x: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});

describe('canonical JSON against the canonicalize package (RFC 8785 reference)', () => {
  it('writes the same text for any JSON value, including Dates and undefined properties', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.string({ unit: 'grapheme' }),
        fc.date({ noInvalidDate: true }),
      ),
      node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
      array: fc.array(tie('node'), { maxLength: 5 }),
      object: fc.dictionary(fc.string({ unit: 'grapheme' }), fc.option(tie('node'), { nil: undefined }), {
        maxKeys: 5,
      }),
    })).node;
    fc.assert(
      fc.property(value, (input) => {
        expect(canonicalJson(input)).toBe(canonicalize(input));
      }),
      { numRuns: 500 },
    );
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blobItemHash,
  canonicalJson,
  newItemId,
  portableSha256Hex,
  recordHash,
  sha256Hex,
} from '../src/index.js';

const nodeSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('record and blob hashes', () => {
  it('gives the documented hash for the README example record', () => {
    const item = { type: 'click', ts: 1766557428498, data: { x: 1 } };
    expect(canonicalJson(item)).toBe('{"data":{"x":1},"ts":1766557428498,"type":"click"}');
    expect(recordHash(item)).toBe('0871c5070ae904aa2eeb57f98cb1e4f0553a1698e895bef346fbe68d4ec14eee');
  });

  it('gives the documented hash for the README example blob', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    const hash = blobItemHash({
      type: 'screenshot',
      ts: 1766557428498,
      contentType: 'image/png',
      size: 3,
      sha256: sha256Hex(bytes),
    });
    expect(hash).toBe('1d32eae2732fc24cfa7b3dabebd2ad85b77a65ba72c73e003d21db6388a13d8e');
  });

  it('covers only type, ts and data: id and a supplied hash do not change it', () => {
    const base = { type: 't', ts: 5, data: [1, { a: 'b' }] };
    const withExtras = { ...base, id: 'x', hash: 'f'.repeat(64) } as typeof base;
    expect(recordHash(withExtras)).toBe(recordHash(base));
  });

  it('changes when type, ts or data change', () => {
    const base = { type: 't', ts: 5, data: { a: 1 } };
    const hashes = new Set([
      recordHash(base),
      recordHash({ ...base, type: 'u' }),
      recordHash({ ...base, ts: 6 }),
      recordHash({ ...base, data: { a: 2 } }),
      recordHash({ ...base, data: null }),
    ]);
    expect(hashes.size).toBe(5);
  });

  it('distinguishes an absent blob meta from an empty one', () => {
    const base = { type: 't', ts: 1, contentType: 'image/png', size: 0, sha256: sha256Hex('') };
    expect(blobItemHash(base)).not.toBe(blobItemHash({ ...base, meta: {} }));
    expect(blobItemHash({ ...base, meta: undefined })).toBe(blobItemHash(base));
  });

  it('equals SHA-256 of the canonical JSON, as an independent implementation computes it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.nat(), fc.jsonValue(), (type, ts, data) => {
        const item = { type, ts, data };
        expect(recordHash(item)).toBe(nodeSha256(canonicalJson({ type, ts, data })));
      }),
    );
  });

  it('is stable however the same value is built: key order and JSON round trips', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const reparsed = JSON.parse(JSON.stringify(data));
        const reversed = reverseKeys(data);
        const a = recordHash({ type: 'x', ts: 1, data });
        expect(recordHash({ type: 'x', ts: 1, data: reparsed })).toBe(a);
        expect(recordHash({ type: 'x', ts: 1, data: reversed })).toBe(a);
        expect(JSON.parse(canonicalJson(data))).toEqual(reparsed);
      }),
    );
  });

  it('hashes equal numbers written differently the same', () => {
    const parsed = ['1', '1.0', '1e0', '10e-1', '-0', '0'].map((text) => JSON.parse(`{"n":${text}}`));
    const hashes = parsed.map((data) => recordHash({ type: 'n', ts: 0, data }));
    expect(new Set(hashes.slice(0, 4)).size).toBe(1);
    expect(hashes[4]).toBe(hashes[5]);
  });
});

describe('sha256Hex', () => {
  it("gives the portable implementation's digest natively, for any text (lone surrogates included) and bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.string({ unit: 'grapheme', maxLength: 16 }),
        ),
        (text) => {
          expect(sha256Hex(text)).toBe(portableSha256Hex(text));
          expect(sha256Hex(text)).toBe(nodeSha256(text));
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256Hex(bytes)).toBe(portableSha256Hex(bytes));
      }),
    );
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  }, 20_000);
});

describe('client ids', () => {
  it('are valid, unique, time-ordered UUIDv7s, across many draws of entropy', () => {
    const ids = Array.from({ length: 20_000 }, () => newItemId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

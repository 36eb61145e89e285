import { describe, expect, it } from 'vitest';
import { BlobManifestItemSchema, BlobManifestSchema, blobObjectKey, sha256Hex } from '../src/index.js';

const sha = sha256Hex('bytes');
const valid = { id: 'shot-1', type: 'screenshot', ts: 1, contentType: 'image/png', size: 5, sha256: sha };

describe('blob manifest', () => {
  it('accepts the SPEC shape with and without meta', () => {
    expect(BlobManifestItemSchema.safeParse(valid).success).toBe(true);
    expect(BlobManifestItemSchema.safeParse({ ...valid, meta: { screen: 2, tags: ['a'] } }).success).toBe(
      true,
    );
    expect(
      BlobManifestItemSchema.safeParse({ ...valid, contentType: 'text/plain; charset=utf-8' }).success,
    ).toBe(true);
    expect(BlobManifestItemSchema.safeParse({ ...valid, size: 0 }).success).toBe(true);
  });

  it.each([
    ['a negative size', { size: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['a bad sha256', { sha256: 'xyz' }],
    ['a content type without a slash', { contentType: 'png' }],
    ['an empty content type', { contentType: '' }],
    ['meta that is an array', { meta: [1] }],
    ['meta that is a string', { meta: 'm' }],
    ['meta with a NUL', { meta: { a: '\u0000' } }],
    ['meta with a lone surrogate key', { meta: { '\ud800': 1 } }],
    ['a content type with a newline', { contentType: 'text/plain; a=b\r\nX-Evil: 1' }],
    ['a content type with a NUL', { contentType: 'text/plain;\u0000' }],
    ['a content type with non-ASCII parameters', { contentType: 'text/plain; name=é' }],
    ['a content type with a lone surrogate', { contentType: 'text/plain; x=\ud800' }],
    ['a bad id', { id: 'a b' }],
  ])('rejects %s', (_name, patch) => {
    expect(BlobManifestItemSchema.safeParse({ ...valid, ...patch }).success).toBe(false);
  });

  it('rejects extra fields and an empty manifest', () => {
    expect(BlobManifestItemSchema.safeParse({ ...valid, bytes: 'x' }).success).toBe(false);
    expect(BlobManifestSchema.safeParse({ items: [] }).success).toBe(false);
    expect(BlobManifestSchema.safeParse({ items: [valid] }).success).toBe(true);
  });

  it('derives object keys from content alone, fanned out by prefix', () => {
    expect(blobObjectKey(sha)).toBe(`blobs/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`);
    expect(blobObjectKey(sha256Hex('bytes'))).toBe(blobObjectKey(sha));
  });
});

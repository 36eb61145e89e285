import { z } from 'zod';
import {
  ItemIdSchema,
  ItemTypeSchema,
  MAX_ID_LENGTH,
  MAX_TYPE_LENGTH,
  Sha256HexSchema,
  TimestampSchema,
} from './item.js';
import { JsonObjectSchema } from './json-rules.js';
import type { Limits } from './limits.js';

/** Longest `contentType` of a blob, in characters (visible ASCII). */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/**
 * MIME type of a blob, e.g. `image/png` or `text/plain; charset=utf-8`: `type/subtype` of word characters,
 * `.`, `+` and `-`, then optional parameters of visible ASCII, spaces and tabs, so that it is always a
 * legal HTTP header value when the blob is served or uploaded to object storage.
 */
export const CONTENT_TYPE_PATTERN = /^[\w.+-]+\/[\w.+-]+(?:[ \t]*;[\t\x20-\x7e]*)?$/;

/** MIME type of a blob; see {@link CONTENT_TYPE_PATTERN}. */
export const ContentTypeSchema = z
  .string()
  .min(1)
  .max(MAX_CONTENT_TYPE_LENGTH)
  .regex(CONTENT_TYPE_PATTERN, 'contentType must be a MIME type such as image/png, in visible ASCII');

/** One blob described in the `manifest` part of `POST /v1/blobs`. */
export const BlobManifestItemSchema = z.strictObject({
  id: ItemIdSchema,
  type: ItemTypeSchema,
  ts: TimestampSchema,
  contentType: ContentTypeSchema,
  size: z.int().nonnegative(),
  sha256: Sha256HexSchema,
  meta: JsonObjectSchema.optional(),
});
export type BlobManifestItem = z.infer<typeof BlobManifestItemSchema>;

/**
 * The envelope of the `manifest` part. Items are checked one by one with
 * {@link BlobManifestItemSchema}, so one bad entry is `rejected` without failing the request.
 */
export const BlobManifestEnvelopeSchema = z.strictObject({
  items: z.array(z.unknown()),
});

/** A well-formed manifest, as the SDK builds it. */
export const BlobManifestSchema = z.strictObject({
  items: z.array(BlobManifestItemSchema).min(1),
});
export type BlobManifest = z.infer<typeof BlobManifestSchema>;

/** The form field name of the manifest part, which must come first. */
export const MANIFEST_FIELD = 'manifest';

/**
 * The object-storage key of a blob's bytes: content-addressed, so identical bytes are stored once.
 * The two-level fan-out keeps directory listings small on file-system stores.
 */
export function blobObjectKey(sha256: string): string {
  return `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/**
 * Most bytes a manifest keeping to `limits` takes, as `JSON.stringify` writes it: `maxBlobsPerRequest`
 * entries at their longest (an id of {@link MAX_ID_LENGTH} characters, a type of as many four-byte
 * characters, ts and size at the largest integer, a contentType whose every character JSON escapes, a meta
 * of `maxBlobMetaBytes`), with the envelope and separators. Servers accept manifests this large; clients
 * can count on it when they size a request.
 */
export function maxManifestBytes(limits: Pick<Limits, 'maxBlobsPerRequest' | 'maxBlobMetaBytes'>): number {
  const longestEntry = {
    id: 'i'.repeat(MAX_ID_LENGTH),
    type: '\u{1F600}'.repeat(MAX_TYPE_LENGTH),
    ts: Number.MAX_SAFE_INTEGER,
    contentType: '"'.repeat(MAX_CONTENT_TYPE_LENGTH),
    size: Number.MAX_SAFE_INTEGER,
    sha256: '0'.repeat(64),
    meta: {},
  };
  const entryBytes = new TextEncoder().encode(JSON.stringify(longestEntry)).length - '{}'.length;
  const envelopeBytes = JSON.stringify({ items: [] }).length;
  return (
    envelopeBytes +
    limits.maxBlobsPerRequest * (entryBytes + limits.maxBlobMetaBytes) +
    (limits.maxBlobsPerRequest - 1)
  );
}

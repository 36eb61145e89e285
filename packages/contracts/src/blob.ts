import { z } from 'zod';
import { ItemIdSchema, ItemTypeSchema, Sha256HexSchema, TimestampSchema } from './item.js';
import { JsonObjectSchema } from './json-rules.js';

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
  .max(255)
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

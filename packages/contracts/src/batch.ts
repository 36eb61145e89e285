import { z } from 'zod';
import { ItemIdSchema, ItemTypeSchema, Sha256HexSchema, TimestampSchema } from './item.js';
import { JsonValueSchema } from './json-rules.js';

/** One record of `POST /v1/batch`. `data` is any JSON value (`null` included) and is required. */
export const RecordItemSchema = z.strictObject({
  id: ItemIdSchema,
  type: ItemTypeSchema,
  ts: TimestampSchema,
  data: JsonValueSchema,
  hash: Sha256HexSchema.optional(),
});
export type RecordItem = z.infer<typeof RecordItemSchema>;

/**
 * The envelope of `POST /v1/batch`. Items are checked one by one with {@link RecordItemSchema} so
 * that one bad item is `rejected` without failing the batch; the envelope only requires an array.
 */
export const BatchEnvelopeSchema = z.strictObject({
  items: z.array(z.unknown()),
});
export type BatchEnvelope = z.infer<typeof BatchEnvelopeSchema>;

/** A well-formed batch request, as the SDK builds it. */
export const BatchRequestSchema = z.strictObject({
  items: z.array(RecordItemSchema).min(1),
});
export type BatchRequest = z.infer<typeof BatchRequestSchema>;

import { z } from 'zod';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Effective request limits of an ingest server, as published at `GET /v1/limits`.
 * Byte sizes are of the decoded (uncompressed) body.
 */
export const LimitsSchema = z.strictObject({
  /** Most items in one `POST /v1/batch`. */
  maxBatchItems: z.int().positive(),
  /** Most decoded bytes of one `POST /v1/batch` body. */
  maxBatchBytes: z.int().positive(),
  /** Most bytes of one record's serialized `data`. */
  maxItemDataBytes: z.int().positive(),
  /** Most blobs in one `POST /v1/blobs`. */
  maxBlobsPerRequest: z.int().positive(),
  /** Most bytes of one `POST /v1/blobs` request, manifest and parts together. */
  maxBlobRequestBytes: z.int().positive(),
  /** Most bytes of one blob. */
  maxBlobBytes: z.int().positive(),
  /** Most bytes of one blob's serialized `meta`. */
  maxBlobMetaBytes: z.int().positive(),
});
export type Limits = z.infer<typeof LimitsSchema>;

/** {@link LimitsSchema} as a client reads it: limits it does not know are ignored. */
export const LimitsReadSchema = z.object(LimitsSchema.shape);

/** The protocol's default limits (SPEC §1); a server may lower or raise them and publishes what it uses. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBatchItems: 1000,
  maxBatchBytes: 4 * MiB,
  maxItemDataBytes: 64 * KiB,
  maxBlobsPerRequest: 100,
  maxBlobRequestBytes: 64 * MiB,
  maxBlobBytes: 32 * MiB,
  maxBlobMetaBytes: 4 * KiB,
});

import { createHash } from 'node:crypto';
import { blobItemHash, recordHash } from '@sluice/contracts';

/**
 * The deliberately bad items of a run, all derived from the seed. The first planter delivers the
 * originals; a second, fresh uploader then sends conflicting content under the same ids, and a record
 * whose data is valid under the SDK's default limit but above the servers' lower `MAX_ITEM_DATA_BYTES`.
 */
export interface PlantedItems {
  readonly recordId: string;
  readonly blobId: string;
  readonly oversizeId: string;
}

/** The servers' `MAX_ITEM_DATA_BYTES` in a chaos run: below the SDK's default (64 KiB) on purpose. */
export const SERVER_MAX_ITEM_DATA_BYTES = 16_384;

/** Bytes of the oversize record's string: above the servers' limit, below the SDK's default. */
export const OVERSIZE_DATA_BYTES = 40_000;

export function plantedItems(seed: number): PlantedItems {
  return {
    recordId: `chaos-${seed}-conflict-record`,
    blobId: `chaos-${seed}-conflict-blob`,
    oversizeId: `chaos-${seed}-oversize-record`,
  };
}

/** A planted record's fields: version 1 is delivered, version 2 conflicts with it. */
export function plantedRecord(seed: number, version: 1 | 2) {
  const type = 'chaos.planted';
  const ts = 1_700_000_000_000 + version;
  const data = { seed, version };
  return { type, ts, data, hash: recordHash({ type, ts, data }) };
}

/** A planted blob's fields: version 1 is delivered, version 2 (other bytes) conflicts with it. */
export function plantedBlob(seed: number, version: 1 | 2) {
  const body = Buffer.from(`planted blob of seed ${seed}, version ${version}\n`.repeat(1000));
  const type = 'chaos.planted';
  const ts = 1_700_000_000_000;
  const contentType = 'text/plain';
  const sha256 = createHash('sha256').update(body).digest('hex');
  return {
    body,
    type,
    ts,
    contentType,
    sha256,
    hash: blobItemHash({ type, ts, contentType, size: body.byteLength, sha256 }),
  };
}

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { v7 as uuidv7 } from 'uuid';
import type { RecordItem } from './batch.js';
import type { BlobManifestItem } from './blob.js';
import { canonicalJson } from './canonical-json.js';
import { nodeBuiltin } from './node-builtin.js';

/** The part of `node:crypto` that hashing uses. */
interface NodeHashing {
  createHash(algorithm: 'sha256'): NodeHash;
  /** One-shot digest (Node ≥ 20.12): about twice as fast as `createHash` for a record's few hundred bytes. */
  hash?(algorithm: 'sha256', data: string | Uint8Array, encoding: 'hex'): string;
}

interface NodeHash {
  update(data: string | Uint8Array): NodeHash;
  digest(encoding: 'hex'): string;
}

/**
 * `node:crypto` where the runtime has it without an import (Node ≥ 20.16, Deno, Bun); `undefined` in a
 * browser or another runtime, where the portable implementation is used. Native hashing is several times
 * faster and makes no garbage: it is most of what hashing a record costs.
 */
const nodeHashing = nodeBuiltin<NodeHashing>('node:crypto');

/** Lowercase hex SHA-256 of a string's UTF-8 bytes, or of bytes, by the portable implementation. */
export function portableSha256Hex(input: string | Uint8Array): string {
  return bytesToHex(sha256(typeof input === 'string' ? utf8ToBytes(input) : input));
}

/**
 * Lowercase hex SHA-256 of a string's UTF-8 bytes, or of bytes. Portable: native `node:crypto` where the
 * runtime offers it, else {@link portableSha256Hex}; both give the same digest.
 */
export function sha256Hex(input: string | Uint8Array): string {
  if (nodeHashing === undefined) return portableSha256Hex(input);
  return nodeHashing.hash === undefined
    ? nodeHashing.createHash('sha256').update(input).digest('hex')
    : nodeHashing.hash('sha256', input, 'hex');
}

/** The fields of a record that its hash covers. `data` must be a JSON value. */
export interface RecordHashInput {
  readonly type: RecordItem['type'];
  readonly ts: RecordItem['ts'];
  readonly data: unknown;
}

/** Hash of a record: SHA-256 hex of the canonical JSON of `{ type, ts, data }`. */
export function recordHash(item: RecordHashInput): string {
  return sha256Hex(canonicalJson({ type: item.type, ts: item.ts, data: item.data }));
}

/**
 * {@link recordHash} of a record whose `data` is already canonical JSON text (as `checkRecordData`
 * returns it), without canonicalizing `data` a second time. The keys of `{ data, ts, type }` are
 * already in canonical order.
 */
export function recordHashOfCanonical(type: string, ts: number, canonicalData: string): string {
  const suffix = `,"ts":${canonicalJson(ts)},"type":${canonicalJson(type)}}`;
  // Without a one-shot digest the parts are hashed in turn rather than copied into one more string.
  if (nodeHashing !== undefined && nodeHashing.hash === undefined) {
    return nodeHashing
      .createHash('sha256')
      .update('{"data":')
      .update(canonicalData)
      .update(suffix)
      .digest('hex');
  }
  return sha256Hex(`{"data":${canonicalData}${suffix}`);
}

/** The fields of a blob that its hash covers. */
export type BlobHashInput = Pick<
  BlobManifestItem,
  'type' | 'ts' | 'contentType' | 'size' | 'sha256' | 'meta'
>;

/**
 * Hash of a blob item: SHA-256 hex of the canonical JSON of
 * `{ type, ts, contentType, size, sha256, meta }`. An absent `meta` is left out of the object.
 */
export function blobItemHash(item: BlobHashInput): string {
  return sha256Hex(
    canonicalJson({
      type: item.type,
      ts: item.ts,
      contentType: item.contentType,
      size: item.size,
      sha256: item.sha256,
      meta: item.meta,
    }),
  );
}

// Entropy is drawn for 256 ids at a time: one getRandomValues call per id was the largest single cost of
// enqueueing a record. The uuid package lays out the bytes; the monotonic sequence is kept here, by its
// rule (a new millisecond seeds it from the random bits, the same millisecond counts it up).
const IDS_PER_DRAW = 256;
const entropy = new Uint8Array(16 * IDS_PER_DRAW);
let drawn = IDS_PER_DRAW;
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

function randomBytes16(): Uint8Array {
  if (drawn === IDS_PER_DRAW) {
    globalThis.crypto.getRandomValues(entropy);
    drawn = 0;
  }
  drawn += 1;
  return entropy.subarray(16 * (drawn - 1), 16 * drawn);
}

/**
 * A new client-chosen item id: a UUIDv7 (time-ordered, 74 random bits), monotonic within a process.
 * Uses Web Crypto randomness, so it works in browsers too.
 */
export function newItemId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs += 1;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}

import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { ObjectBody } from '../object-store/object-store.js';
import { stagedChunk } from './blob-statements.js';
import { StagedBytesCorruptError, StagedBytesMissingError } from './blob-worker-errors.js';

/** The blob whose staged bytes {@link stagedBody} reads. */
export interface StagedBlob {
  readonly source: string;
  readonly id: string;
  readonly size: number;
  readonly sha256: string;
}

function missing(blob: StagedBlob): StagedBytesMissingError {
  return new StagedBytesMissingError(`staged bytes of ${blob.source}/${blob.id} are missing`);
}

function corrupt(blob: StagedBlob, actual: string, bytes: number): StagedBytesCorruptError {
  return new StagedBytesCorruptError(
    `staged bytes of ${blob.source}/${blob.id} hash to ${actual} (${bytes} bytes), expected ${blob.sha256} (${blob.size})`,
  );
}

/**
 * The staged bytes of a blob, checked against its size and SHA-256: whole when they are one chunk,
 * otherwise a stream that reads one chunk at a time and releases the last chunk only once every byte
 * matched, so that a consumer that writes atomically never completes an object from damaged bytes.
 * @throws {StagedBytesMissingError} (at once, or from the stream) when its bytes are not (all) staged.
 * @throws {StagedBytesCorruptError} (at once, or from the stream) when the bytes do not match.
 */
export async function stagedBody(db: Database, blob: StagedBlob): Promise<Uint8Array | ObjectBody> {
  const first = await stagedChunk(db, blob.source, blob.id, 0);
  if (first === undefined) throw missing(blob);
  if (first.byteLength >= blob.size) {
    const actual = createHash('sha256').update(first).digest('hex');
    if (actual !== blob.sha256 || first.byteLength !== blob.size)
      throw corrupt(blob, actual, first.byteLength);
    return first;
  }
  return { size: blob.size, chunks: verifiedChunks(db, blob, first) };
}

async function* verifiedChunks(
  db: Database,
  blob: StagedBlob,
  first: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let held = first;
  let total = 0;
  for (let seq = 1; ; seq += 1) {
    hash.update(held);
    total += held.byteLength;
    if (total >= blob.size) break;
    const next = await stagedChunk(db, blob.source, blob.id, seq);
    // Gone mid-read: freed by an upload that finished meanwhile, or lost.
    if (next === undefined) throw missing(blob);
    yield held;
    held = next;
  }
  const actual = hash.digest('hex');
  if (actual !== blob.sha256 || total !== blob.size) throw corrupt(blob, actual, total);
  yield held;
}

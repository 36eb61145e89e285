import type { Database } from '../db/database.js';

// The blob worker's SQL, one named statement per operation, apart from the loop that runs them
// (graphile-worker style). Every statement is one round trip and decides on its own, without a prior read.

/** A row {@link claimBlobs} returns; `size` and `attempts` may arrive as strings. */
export interface ClaimedBlobRow {
  source: string;
  id: string;
  sha256: string;
  size: number;
  content_type: string;
  attempts: number;
}

/** A lease {@link expireLeases} ended. */
export interface ExpiredLeaseRow {
  id: string;
  /** `failed` when that was the blob's last allowed attempt, else `pending`. */
  state: string;
  /** The worker that held the lease: for the log only, it names a host and pid. */
  lease_owner: string | null;
}

// A claim takes due pending blobs, oldest first; SKIP LOCKED lets any number of workers claim side by
// side without waiting on each other. The attempt is counted when it starts, so a worker that dies
// mid-upload still spends one.
const CLAIM_SQL = `
update blobs b
   set state = 'uploading', lease_owner = $1, attempts = b.attempts + 1,
       lease_until = now() + $2::int * interval '1 millisecond'
 where (b.source, b.id) in (
         select source, id from blobs
          where state = 'pending' and next_attempt_at <= now()
          order by next_attempt_at
          limit $3::int
            for update skip locked)
returning b.source, b.id, b.sha256, b.size::float8 as size, b.content_type, b.attempts`;

/** Leases up to `limit` due pending blobs to `workerId` for `leaseMs`, counting the attempt. */
export function claimBlobs(
  db: Database,
  workerId: string,
  leaseMs: number,
  limit: number,
): Promise<ClaimedBlobRow[]> {
  return db.query<ClaimedBlobRow>(CLAIM_SQL, [workerId, leaseMs, limit]);
}

// Blobs whose worker stopped responding (crashed, hung, partitioned) go back to pending, or to failed
// when that was their last allowed attempt. The old lease owner is returned for the log only: it
// names a host and pid, which last_error (shown to clients) must not.
const EXPIRE_SQL = `
update blobs b
   set state = case when b.attempts >= $1::int then 'failed' else 'pending' end,
       last_error = $2, lease_owner = null, lease_until = null, next_attempt_at = now()
  from (select source, id, lease_owner from blobs
         where state = 'uploading' and lease_until < now()
           for update skip locked) expired
 where b.source = expired.source and b.id = expired.id
returning b.id, b.state, expired.lease_owner`;

/** Ends every expired lease: the blob is due again, or `failed` after `maxAttempts`, with `lastError`. */
export function expireLeases(
  db: Database,
  maxAttempts: number,
  lastError: string,
): Promise<ExpiredLeaseRow[]> {
  return db.query<ExpiredLeaseRow>(EXPIRE_SQL, [maxAttempts, lastError]);
}

// Hex text, decoded natively: PGlite converts bytea results in JavaScript (10× slower for 1 MiB).
const STAGED_CHUNK_SQL =
  "select encode(bytes, 'hex') as hex from blob_staging where source = $1 and id = $2 and seq = $3";

/** Chunk `seq` of a blob's staged bytes, or `undefined` when there is no such chunk. */
export async function stagedChunk(
  db: Database,
  source: string,
  id: string,
  seq: number,
): Promise<Uint8Array | undefined> {
  const rows = await db.query<{ hex: string }>(STAGED_CHUNK_SQL, [source, id, seq]);
  const hex = rows[0]?.hex;
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

// Marking the blob uploaded and freeing its staged bytes is one statement, so a blob is never
// uploaded without its bytes being freed nor freed without being uploaded. Only the lease owner may.
const COMPLETE_SQL = `
with done as (
  update blobs
     set state = 'uploaded', object_key = $4, uploaded_at = now(),
         lease_owner = null, lease_until = null, last_error = null
   where source = $1 and id = $2 and lease_owner = $3 and state = 'uploading'
  returning source, id)
delete from blob_staging s using done where s.source = done.source and s.id = done.id
returning s.id`;

/**
 * Marks a blob `uploaded` at `objectKey` and frees its staged bytes, if `workerId` still holds its lease.
 * @returns whether it did (false: the lease was lost).
 */
export async function completeBlob(
  db: Database,
  source: string,
  id: string,
  workerId: string,
  objectKey: string,
): Promise<boolean> {
  const freed = await db.query(COMPLETE_SQL, [source, id, workerId, objectKey]);
  return freed.length > 0;
}

// The delay comes from retryDelayMs() (the one backoff rule, also behind the documented schedule); the
// next attempt time is relative to the database's clock, like the claim's.
const FAIL_SQL = `
update blobs
   set state = case when attempts >= $4::int then 'failed' else 'pending' end,
       next_attempt_at = now() + $5::float8 * interval '1 millisecond',
       last_error = $6, lease_owner = null, lease_until = null
 where source = $1 and id = $2 and lease_owner = $3 and state = 'uploading'
returning state`;

/** What {@link failBlob} needs to record a failed attempt. */
export interface FailedAttempt {
  readonly source: string;
  readonly id: string;
  readonly workerId: string;
  readonly maxAttempts: number;
  /** Milliseconds until the next attempt. */
  readonly delayMs: number;
  /** Error text safe to show clients. */
  readonly lastError: string;
}

/**
 * Records a failed attempt of a blob `workerId` holds: due again after `delayMs`, or `failed` once
 * `maxAttempts` are spent.
 * @returns the blob's new state, or `undefined` when the lease was lost.
 */
export async function failBlob(db: Database, attempt: FailedAttempt): Promise<string | undefined> {
  const rows = await db.query<{ state: string }>(FAIL_SQL, [
    attempt.source,
    attempt.id,
    attempt.workerId,
    attempt.maxAttempts,
    attempt.delayMs,
    attempt.lastError,
  ]);
  return rows[0]?.state;
}

// A stopping worker hands its claims back without spending an attempt.
const RELEASE_SQL = `
update blobs
   set state = 'pending', lease_owner = null, lease_until = null, next_attempt_at = now(),
       attempts = greatest(attempts - 1, 0)
 where lease_owner = $1 and state = 'uploading'
returning id`;

/** Hands every lease of `workerId` back, due at once, the attempt not counted. @returns how many. */
export async function releaseLeases(db: Database, workerId: string): Promise<number> {
  const released = await db.query(RELEASE_SQL, [workerId]);
  return released.length;
}

// Only `failed` blobs: a pending or uploading blob is already on its way, an uploaded one is done.
// Their staged bytes were kept, so the worker picks them up at once with a fresh retry budget.
// `$2` are item ids of any source (the CLI); `$3`/`$4` are (source, id) pairs, each naming one blob.
const RETRY_FAILED_SQL = `
update blobs
   set state = 'pending', attempts = 0, next_attempt_at = now()
 where state = 'failed'
   and (id = any($1::text[])
        or (source, id) in (select s, i from unnest($2::text[], $3::text[]) as pairs(s, i)))
returning source, id`;

// A bounded batch, so retrying every failed blob after a long outage never holds them all at once.
const RETRY_FAILED_BATCH_SQL = `
with batch as (
  select source, id from blobs where state = 'failed' order by source, id limit $1 for update skip locked)
update blobs b
   set state = 'pending', attempts = 0, next_attempt_at = now()
  from batch
 where b.source = batch.source and b.id = batch.id
returning b.source, b.id`;

/** Returns up to `limit` `failed` blobs to `pending` with attempts reset; the ones it did. */
export function retryFailedBatch(db: Database, limit: number): Promise<{ source: string; id: string }[]> {
  return db.query<{ source: string; id: string }>(RETRY_FAILED_BATCH_SQL, [limit]);
}

/**
 * Returns `failed` blobs (those with one of `ids` in any source, or those named by a `pairs` entry) to
 * `pending` with attempts reset. All of them: {@link retryFailedBatch}.
 */
export function retryFailed(
  db: Database,
  ids: readonly string[],
  pairs: readonly { readonly source: string; readonly id: string }[] = [],
): Promise<{ source: string; id: string }[]> {
  return db.query<{ source: string; id: string }>(RETRY_FAILED_SQL, [
    [...ids],
    pairs.map((pair) => pair.source),
    pairs.map((pair) => pair.id),
  ]);
}

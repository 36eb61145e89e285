import type { Database } from '../db/database.js';

/** Which failed blobs {@link retryFailedBlobs} returns to `pending`. */
export type FailedBlobSelection = { readonly all: true } | { readonly ids: readonly string[] };

// Only `failed` blobs: a pending or uploading blob is already on its way, an uploaded one is done.
// Their staged bytes were kept, so the worker picks them up at once with a fresh retry budget.
const RETRY_FAILED_SQL = `
update blobs
   set state = 'pending', attempts = 0, next_attempt_at = now()
 where state = 'failed' and ($1::boolean or id = any($2::text[]))
returning source, id`;

/**
 * Returns failed blobs to `pending` with their attempts reset, due at once (for `blobs:retry` and the
 * admin API). Ids are item ids and match in every source; ids of blobs that are not `failed` are ignored.
 * @returns the blobs that were failed and are now pending.
 */
export async function retryFailedBlobs(
  db: Database,
  which: FailedBlobSelection,
): Promise<{ source: string; id: string }[]> {
  const all = 'all' in which;
  const ids = all ? [] : [...which.ids];
  if (!all && ids.length === 0) return [];
  return db.query<{ source: string; id: string }>(RETRY_FAILED_SQL, [all, ids]);
}

import type { Database } from '../db/database.js';
import { retryFailed } from './blob-statements.js';

/** Which failed blobs {@link retryFailedBlobs} returns to `pending`. */
export type FailedBlobSelection = { readonly all: true } | { readonly ids: readonly string[] };

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
  return retryFailed(db, all, ids);
}

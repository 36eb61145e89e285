import type { Database } from '../db/database.js';
import { retryFailed, retryFailedBatch } from './blob-statements.js';

/**
 * Which failed blobs {@link retryFailedBlobs} returns to `pending`: those with one of `ids` in any source
 * (`blobs:retry ids…`), or exactly the blobs named by `items` (the admin API). All of them:
 * {@link retryAllFailedBlobs}.
 */
export type FailedBlobSelection =
  | { readonly ids: readonly string[] }
  | { readonly items: readonly { readonly source: string; readonly id: string }[] };

/**
 * Returns failed blobs to `pending` with their attempts reset, due at once (for `blobs:retry` and the
 * admin API). Blobs that are not `failed` are ignored.
 * @returns the blobs that were failed and are now pending.
 */
export async function retryFailedBlobs(
  db: Database,
  which: FailedBlobSelection,
): Promise<{ source: string; id: string }[]> {
  if ('ids' in which) return which.ids.length === 0 ? [] : retryFailed(db, which.ids);
  return which.items.length === 0 ? [] : retryFailed(db, [], which.items);
}

/** Blobs {@link retryAllFailedBlobs} takes per statement. */
export const RETRY_ALL_BATCH = 1000;

/**
 * Returns every failed blob to `pending`, {@link RETRY_ALL_BATCH} at a time, handing each batch to
 * `onBatch` as it goes: after a long outage there may be millions, never held at once.
 * @returns how many were retried.
 */
export async function retryAllFailedBlobs(
  db: Database,
  onBatch: (retried: readonly { source: string; id: string }[]) => void,
  batchSize = RETRY_ALL_BATCH,
): Promise<number> {
  let count = 0;
  for (;;) {
    const retried = await retryFailedBatch(db, batchSize);
    count += retried.length;
    if (retried.length > 0) onBatch(retried);
    if (retried.length < batchSize) return count;
  }
}

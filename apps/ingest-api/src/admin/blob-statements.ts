import type { Database } from '../db/database.js';
import { decodeTimeKeyCursor, encodeCursor, isoMicrosSql } from './cursor.js';

/** Blob counts by state and the age of the oldest unfinished blob. */
export interface BlobOverviewRow {
  readonly counts: Record<'pending' | 'uploading' | 'uploaded' | 'failed', number>;
  readonly backlogAgeMs: number;
}

const OVERVIEW_SQL = `
select state, count(*)::float8 as count, null::float8 as age_ms from blobs group by state
union all
select null, null, coalesce(floor(extract(epoch from now() - min(i.received_at)) * 1000), 0)::float8
  from blobs b join items i on i.source = b.source and i.id = b.id
 where b.state in ('pending', 'uploading')`;

/** Blob counts by state and backlog age, read from the shared database. */
export async function blobOverview(db: Database): Promise<BlobOverviewRow> {
  const rows = await db.query<{ state: string | null; count: number | null; age_ms: number | null }>(
    OVERVIEW_SQL,
  );
  const counts = { pending: 0, uploading: 0, uploaded: 0, failed: 0 };
  let backlogAgeMs = 0;
  for (const row of rows) {
    if (row.state === null) backlogAgeMs = Math.max(0, Number(row.age_ms ?? 0));
    else if (row.state in counts) counts[row.state as keyof typeof counts] = Number(row.count ?? 0);
  }
  return { counts, backlogAgeMs };
}

/** One failed blob; numbers arrive as float8. */
export interface FailedBlobRow {
  source: string;
  id: string;
  type: string;
  size: number;
  content_type: string;
  attempts: number;
  last_error: string | null;
  received_ms: number;
  received_iso: string;
}

/**
 * A page of failed blobs, oldest received first by (received_at, source, id), after `cursor`: a keyset
 * seek over the partial index of failed blobs.
 * @throws {InvalidRequestError} for a malformed cursor.
 */
export async function failedBlobs(
  db: Database,
  limit: number,
  cursor: string | undefined,
): Promise<{ rows: FailedBlobRow[]; nextCursor: string | undefined }> {
  const params: unknown[] = [limit + 1];
  let after = '';
  if (cursor !== undefined) {
    const [at, source, id] = decodeTimeKeyCursor(cursor);
    params.push(at, source, id);
    after = 'and (i.received_at, b.source, b.id) > ($2::timestamptz, $3, $4)';
  }
  const rows = await db.query<FailedBlobRow>(
    `select b.source, b.id, i.type, b.size::float8 as size, b.content_type, b.attempts, b.last_error,
            floor(extract(epoch from i.received_at) * 1000)::float8 as received_ms,
            ${isoMicrosSql('i.received_at')} as received_iso
       from blobs b join items i on i.source = b.source and i.id = b.id
      where b.state = 'failed' ${after}
      order by i.received_at, b.source, b.id
      limit $1::int`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor:
      rows.length > limit && last !== undefined
        ? encodeCursor([last.received_iso, last.source, last.id])
        : undefined,
  };
}

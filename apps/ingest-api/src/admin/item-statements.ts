import type { ItemSearchQuery } from '@sluice/contracts';
import type { Database } from '../db/database.js';
import { decodeTimeKeyCursor, encodeCursor, isoMicrosSql } from './cursor.js';

/** One row of {@link searchItems} or {@link findItem}; numbers arrive as float8. */
export interface ItemSummaryRow {
  source: string;
  id: string;
  kind: 'record' | 'blob';
  type: string;
  ts: number;
  received_ms: number;
  /** `received_at` exactly (microseconds), as ISO text: the cursor's time. */
  received_iso: string;
  size: number;
  blob_state: 'pending' | 'uploading' | 'uploaded' | 'failed' | null;
}

// A record's size is its stored JSON text; a blob's, its byte count.
const SUMMARY_COLUMNS = `
  i.source, i.id, i.kind, i.type, i.ts::float8 as ts,
  floor(extract(epoch from i.received_at) * 1000)::float8 as received_ms,
  ${isoMicrosSql('i.received_at')} as received_iso,
  coalesce(b.size, octet_length(i.data::text), 0)::float8 as size,
  b.state as blob_state`;

/** A page of {@link searchItems}. */
export interface ItemRowPage {
  readonly rows: ItemSummaryRow[];
  readonly nextCursor: string | undefined;
}

/**
 * Items matching `query`, newest first by (received_at, source, id), one page after `query.cursor`:
 * a keyset seek on `items_received_idx` (or `items_source_received_idx` with a source), never an
 * OFFSET, so every page costs the same and items stored meanwhile neither repeat nor shift later pages.
 * @throws {InvalidRequestError} for a malformed cursor.
 */
export async function searchItems(db: Database, query: ItemSearchQuery): Promise<ItemRowPage> {
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.source !== undefined) where.push(`i.source = ${param(query.source)}`);
  if (query.kind !== undefined) where.push(`i.kind = ${param(query.kind)}`);
  if (query.type !== undefined) where.push(`i.type = ${param(query.type)}`);
  // Epoch milliseconds go in as numbers: an ISO text of a date past year 9999 (`+010000-…`), which the
  // contract allows, is refused by PostgreSQL.
  if (query.from !== undefined)
    where.push(`i.received_at >= to_timestamp(${param(query.from)}::float8 / 1000)`);
  if (query.to !== undefined) where.push(`i.received_at < to_timestamp(${param(query.to)}::float8 / 1000)`);
  if (query.cursor !== undefined) {
    const [at, source, id] = decodeTimeKeyCursor(query.cursor);
    where.push(
      `(i.received_at, i.source, i.id) < (${param(at)}::timestamptz, ${param(source)}, ${param(id)})`,
    );
  }
  const rows = await db.query<ItemSummaryRow>(
    `select ${SUMMARY_COLUMNS}
       from items i left join blobs b on b.source = i.source and b.id = i.id
      ${where.length === 0 ? '' : `where ${where.join(' and ')}`}
      order by i.received_at desc, i.source desc, i.id desc
      limit ${param(query.limit + 1)}::int`,
    params,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor:
      rows.length > query.limit && last !== undefined
        ? encodeCursor([last.received_iso, last.source, last.id])
        : undefined,
  };
}

/** An item with its data and, for a blob, its blob row; numbers arrive as float8. */
export interface ItemDetailRow extends ItemSummaryRow {
  hash: string;
  data: unknown;
  content_type: string | null;
  sha256: string | null;
  attempts: number | null;
  object_key: string | null;
  last_error: string | null;
  meta: Record<string, unknown> | null;
}

const FIND_ITEM_SQL = `
select ${SUMMARY_COLUMNS}, i.hash, i.data, b.content_type, b.sha256, b.attempts, b.object_key, b.last_error, b.meta
  from items i left join blobs b on b.source = i.source and b.id = i.id
 where i.source = $1 and i.id = $2`;

/** One item with its data, or `undefined`. */
export async function findItem(db: Database, source: string, id: string): Promise<ItemDetailRow | undefined> {
  const rows = await db.query<ItemDetailRow>(FIND_ITEM_SQL, [source, id]);
  return rows[0];
}

/** What serving a blob's bytes needs of its row. */
export interface BlobLocationRow {
  state: 'pending' | 'uploading' | 'uploaded' | 'failed';
  content_type: string;
  object_key: string | null;
  size: number;
  sha256: string;
}

const BLOB_LOCATION_SQL =
  'select state, content_type, object_key, size::float8 as size, sha256 from blobs where source = $1 and id = $2';

/** Where a blob's bytes are, or `undefined` for no such blob. */
export async function blobLocation(
  db: Database,
  source: string,
  id: string,
): Promise<BlobLocationRow | undefined> {
  const rows = await db.query<BlobLocationRow>(BLOB_LOCATION_SQL, [source, id]);
  return rows[0];
}

const HAS_STAGED_BYTES_SQL = 'select 1 from blob_staging where source = $1 and id = $2 and seq = 0';

/** Whether a blob's staged bytes are there (their first chunk), without reading them. */
export async function hasStagedBytes(db: Database, source: string, id: string): Promise<boolean> {
  return (await db.query(HAS_STAGED_BYTES_SQL, [source, id])).length > 0;
}

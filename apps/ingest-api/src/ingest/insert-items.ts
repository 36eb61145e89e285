import { and, eq, inArray } from 'drizzle-orm';
import type { Database, DbTransaction } from '../db/database.js';
import { items } from '../db/schema/index.js';

/** One validated item to store; `hash` is the server-computed canonical hash. */
export interface NewItem {
  readonly id: string;
  readonly kind: 'record' | 'blob';
  readonly type: string;
  readonly ts: number;
  readonly hash: string;
  /** The record's JSON data; `undefined` for blobs. */
  readonly data?: unknown;
}

/** What the idempotency gate decided for one {@link NewItem}. */
export type InsertOutcome = 'stored' | 'duplicate' | 'conflict';

// 7 bind parameters per row; PostgreSQL allows 65,535 per statement.
const ROWS_PER_INSERT = 5000;
const ROWS_PER_SELECT = 30_000;

/**
 * Stores items of one source inside an open transaction and says, for each input row in order,
 * whether it was `stored` now, or already there with the same hash (`duplicate`) or a different
 * one (`conflict`). The unique key (source, id) decides, never a prior read: one
 * `INSERT … ON CONFLICT DO NOTHING RETURNING id` per 5,000 rows, then one `SELECT` (per 30,000) of
 * the hashes of the rest. A repeated id in `rows` is answered against what is stored for it.
 */
export async function insertItemsInTransaction(
  tx: DbTransaction,
  source: string,
  rows: readonly NewItem[],
): Promise<InsertOutcome[]> {
  const firsts = new Map<string, NewItem>();
  for (const row of rows) if (!firsts.has(row.id)) firsts.set(row.id, row);
  // A fixed order keeps concurrent batches with overlapping ids from locking each other in a cycle.
  const unique = [...firsts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const inserted = new Set<string>();
  for (let start = 0; start < unique.length; start += ROWS_PER_INSERT) {
    const chunk = unique.slice(start, start + ROWS_PER_INSERT);
    const returned = await tx
      .insert(items)
      .values(
        chunk.map((row) => ({
          source,
          id: row.id,
          kind: row.kind,
          type: row.type,
          ts: row.ts,
          hash: row.hash,
          data: row.kind === 'record' ? (row.data ?? null) : null,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: items.id });
    for (const { id } of returned) inserted.add(id);
  }

  const storedHashes = new Map<string, string>();
  for (const row of unique) if (inserted.has(row.id)) storedHashes.set(row.id, row.hash);
  const existingIds = unique.filter((row) => !inserted.has(row.id)).map((row) => row.id);
  for (let start = 0; start < existingIds.length; start += ROWS_PER_SELECT) {
    const existing = await tx
      .select({ id: items.id, hash: items.hash })
      .from(items)
      .where(
        and(eq(items.source, source), inArray(items.id, existingIds.slice(start, start + ROWS_PER_SELECT))),
      );
    for (const { id, hash } of existing) storedHashes.set(id, hash);
  }

  const answered = new Set<string>();
  return rows.map((row) => {
    const first = !answered.has(row.id);
    answered.add(row.id);
    if (first && inserted.has(row.id)) return 'stored';
    const stored = storedHashes.get(row.id);
    if (stored === undefined) {
      throw new Error(`item ${row.id} was neither inserted nor found; the items table changed underneath`);
    }
    return stored === row.hash ? 'duplicate' : 'conflict';
  });
}

/**
 * {@link insertItemsInTransaction} in a transaction of its own (all rows or none), retried on a
 * deadlock; outages come out as `DatabaseUnavailableError`.
 */
export function insertItems(
  db: Database,
  source: string,
  rows: readonly NewItem[],
): Promise<InsertOutcome[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return db.transaction((tx) => insertItemsInTransaction(tx, source, rows));
}

import type { ItemResult } from '@sluice/contracts';
import { sql } from 'drizzle-orm';
import { sqlStateOf } from '../db/connection-errors.js';
import type { Database, Db, DbTransaction } from '../db/database.js';
import { items } from '../db/schema/index.js';

/** One validated item to store; `hash` is the server-computed canonical hash. */
export interface NewItem {
  readonly id: string;
  readonly kind: 'record' | 'blob';
  readonly type: string;
  readonly ts: number;
  readonly hash: string;
  /**
   * The record's data as canonical JSON text (the text its hash covers, so what is stored is what was
   * hashed); `undefined` for blobs.
   */
  readonly dataText?: string;
}

/** What the idempotency gate decided for one {@link NewItem}. */
export type InsertOutcome = 'stored' | 'duplicate' | 'conflict';

/** The wire result for an item the gate answered: `conflict` carries `IDEMPOTENCY_CONFLICT`. */
export function outcomeResult(id: string, outcome: InsertOutcome | undefined): ItemResult {
  if (outcome === undefined) throw new Error('the idempotency gate answered fewer items than it was given');
  if (outcome !== 'conflict') return { id, status: outcome };
  return {
    id,
    status: 'conflict',
    error: { code: 'IDEMPOTENCY_CONFLICT', message: 'this id is already stored with different content' },
  };
}

function rowsOf<T>(result: unknown): T[] {
  // postgres.js returns the rows themselves, PGlite an object holding them.
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Stores items of one source through `tx` (an open transaction, or the database handle itself: each
 * statement is atomic on its own) and says, for each input row in order,
 * whether it was `stored` now, or already there with the same hash (`duplicate`) or a different
 * one (`conflict`). The unique key (source, id) decides, never a prior read. Two statements
 * whatever the batch size, each with two parameters (the rows travel as one JSON array): an
 * `INSERT … ON CONFLICT DO NOTHING RETURNING id`, then, only if some rows were not inserted, one
 * `SELECT` of their stored hashes. A repeated id in `rows` is answered against what is stored.
 */
export async function insertItemsInTransaction(
  tx: Pick<DbTransaction | Db, 'execute'>,
  source: string,
  rows: readonly NewItem[],
): Promise<InsertOutcome[]> {
  const firsts = new Map<string, NewItem>();
  for (const row of rows) if (!firsts.has(row.id)) firsts.set(row.id, row);
  // A fixed order keeps concurrent batches with overlapping ids from locking each other in a cycle.
  const unique = [...firsts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Built as text: a record's data is already JSON, and serializing the parsed value again would cost as
  // much as the rest of the request.
  let payload = '[';
  for (const [index, row] of unique.entries()) {
    const head = `{"id":${JSON.stringify(row.id)},"kind":"${row.kind}","type":${JSON.stringify(row.type)},"ts":${row.ts},"hash":"${row.hash}"`;
    payload += `${index === 0 ? '' : ','}${head}${row.kind === 'record' ? `,"data":${row.dataText ?? 'null'}}` : '}'}`;
  }
  payload += ']';
  // A missing `data` key (blobs) becomes SQL NULL; a record's JSON null stays a jsonb null.
  const inserted = new Set(
    rowsOf<{ id: string }>(
      await tx.execute(sql`
        insert into ${items} (source, id, kind, type, ts, hash, data)
        select ${source}, e.v->>'id', e.v->>'kind', e.v->>'type', (e.v->>'ts')::bigint, e.v->>'hash', e.v->'data'
        from jsonb_array_elements(${payload}::jsonb) with ordinality as e(v, ord)
        order by e.ord
        on conflict (source, id) do nothing
        returning id`),
    ).map((row) => row.id),
  );

  const storedHashes = new Map<string, string>();
  for (const row of unique) if (inserted.has(row.id)) storedHashes.set(row.id, row.hash);
  const existingIds = unique.filter((row) => !inserted.has(row.id)).map((row) => row.id);
  if (existingIds.length > 0) {
    const existing = rowsOf<{ id: string; hash: string }>(
      await tx.execute(sql`
        select id, hash from ${items}
        where source = ${source}
          and id in (select jsonb_array_elements_text(${JSON.stringify(existingIds)}::jsonb))`),
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

const DEADLOCK_ATTEMPTS = 4;

/**
 * {@link insertItemsInTransaction} without a transaction of its own: its one `INSERT` is atomic by
 * itself (all rows or none), and the `SELECT` that may follow reads committed rows, which are never
 * deleted, so `BEGIN` and `COMMIT` would only add two round trips. Retried on a deadlock; outages
 * come out as `DatabaseUnavailableError`.
 */
export async function insertItems(
  db: Database,
  source: string,
  rows: readonly NewItem[],
): Promise<InsertOutcome[]> {
  if (rows.length === 0) return [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.use((orm) => insertItemsInTransaction(orm, source, rows));
    } catch (error) {
      if (attempt < DEADLOCK_ATTEMPTS && sqlStateOf(error) === '40P01') continue;
      throw error;
    }
  }
}

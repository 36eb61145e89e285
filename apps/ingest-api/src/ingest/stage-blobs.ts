import { createReadStream } from 'node:fs';
import { blobItemHash } from '@sluice/contracts';
import { sql } from 'drizzle-orm';
import { sqlStateOf } from '../db/connection-errors.js';
import type { Database, DbTransaction } from '../db/database.js';
import { blobStaging, blobs } from '../db/schema/blobs.js';
import { DatabaseOverloadedError } from '../errors.js';
import { insertItemsInTransaction, outcomeResult } from './insert-items.js';
import type { VerifiedPart } from './receive-blob-parts.js';

/** Most bytes in one staged row: staging and uploading hold about this much of a blob at a time. */
export const STAGING_CHUNK_BYTES = 1024 * 1024;

type StagedRow = typeof blobStaging.$inferInsert;

// Bytes travel as hex text decoded by the database: PGlite converts bytea parameters in JavaScript one
// byte at a time (about 5 MB/s), while hex is encoded natively on both sides (4× faster on PGlite for
// 1 MiB chunks; postgres.js sends bytea as hex text anyway).
function insertRows(tx: DbTransaction, rows: readonly StagedRow[]) {
  const values = rows.map(
    ({ source, id, seq, bytes }) =>
      sql`(${source}, ${id}, ${seq}, decode(${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}, 'hex'))`,
  );
  return tx.execute(
    sql`insert into ${blobStaging} (source, id, seq, bytes) values ${sql.join(values, sql`, `)}`,
  );
}

/** Inserts the spooled bytes of each blob as rows of at most {@link STAGING_CHUNK_BYTES}. */
async function stageBytes(tx: DbTransaction, source: string, parts: readonly VerifiedPart[]): Promise<void> {
  let rows: StagedRow[] = [];
  let rowBytes = 0;
  const add = async (row: StagedRow) => {
    rows.push(row);
    rowBytes += row.bytes.byteLength;
    // About a chunk's worth per statement: many small blobs cost few statements, none carries over two chunks.
    if (rowBytes < STAGING_CHUNK_BYTES) return;
    await insertRows(tx, rows);
    rows = [];
    rowBytes = 0;
  };
  for (const { item, path } of parts) {
    let seq = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: STAGING_CHUNK_BYTES })) {
      await add({ source, id: item.id, seq, bytes: chunk as Buffer });
      seq += 1;
    }
    if (seq === 0) await add({ source, id: item.id, seq, bytes: new Uint8Array() });
  }
  if (rows.length > 0) await insertRows(tx, rows);
}

async function stageInTransaction(
  tx: DbTransaction,
  source: string,
  verified: readonly VerifiedPart[],
): Promise<void> {
  const outcomes = await insertItemsInTransaction(
    tx,
    source,
    verified.map(({ item }) => ({
      id: item.id,
      kind: 'blob',
      type: item.type,
      ts: item.ts,
      hash: blobItemHash(item),
    })),
  );
  const stored = verified.filter((_, index) => outcomes[index] === 'stored');
  if (stored.length > 0) {
    await tx.insert(blobs).values(
      stored.map(({ item }) => ({
        source,
        id: item.id,
        size: item.size,
        contentType: item.contentType,
        sha256: item.sha256,
        meta: item.meta ?? null,
      })),
    );
  }
  await stageBytes(tx, source, stored);
  verified.forEach(({ entry, item }, index) => {
    entry.result = outcomeResult(item.id, outcomes[index]);
  });
}

/**
 * Stores the verified blobs of one request in one transaction: their item rows through the idempotency
 * gate (one set-based insert), then for each new one its blob row and its bytes, streamed from the
 * spool in chunks. Sets each entry's result. Does nothing for no blobs.
 * @throws {DatabaseOverloadedError} when a concurrent request holding the same ids deadlocks with it.
 */
export async function stageBlobs(
  db: Database,
  source: string,
  verified: readonly VerifiedPart[],
): Promise<void> {
  if (verified.length === 0) return;
  // Staged bytes are written twice (log and table).
  const release = await db.reserveRoom(2 * verified.reduce((sum, { item }) => sum + item.size, 0));
  try {
    await db.transaction((tx) => stageInTransaction(tx, source, verified));
  } catch (error) {
    const state = sqlStateOf(error);
    if (state === '40P01' || state === '40001') {
      throw new DatabaseOverloadedError('a concurrent request holds the same ids; retry', { cause: error });
    }
    throw error;
  } finally {
    release();
  }
}

import { readFile } from 'node:fs/promises';
import { blobItemHash } from '@sluice/contracts';
import { sqlStateOf } from '../db/connection-errors.js';
import type { Database, DbTransaction } from '../db/database.js';
import { blobStaging, blobs } from '../db/schema/blobs.js';
import { DatabaseOverloadedError } from '../errors.js';
import { insertItemsInTransaction, outcomeResult } from './insert-items.js';
import type { VerifiedPart } from './receive-blob-parts.js';

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
  for (const { item, path } of stored) {
    await tx.insert(blobStaging).values({ source, id: item.id, bytes: await readFile(path) });
  }
  verified.forEach(({ entry, item }, index) => {
    entry.result = outcomeResult(item.id, outcomes[index]);
  });
}

/**
 * Stores the verified blobs of one request in one transaction: their item rows through the idempotency
 * gate (one set-based insert), then for each new one its blob row and its bytes, read back from the
 * spool one blob at a time. Sets each entry's result. Does nothing for no blobs.
 * @throws {DatabaseOverloadedError} when a concurrent request holding the same ids deadlocks with it.
 */
export async function stageBlobs(
  db: Database,
  source: string,
  verified: readonly VerifiedPart[],
): Promise<void> {
  if (verified.length === 0) return;
  try {
    await db.transaction((tx) => stageInTransaction(tx, source, verified));
  } catch (error) {
    const state = sqlStateOf(error);
    if (state === '40P01' || state === '40001') {
      throw new DatabaseOverloadedError('a concurrent request holds the same ids; retry', { cause: error });
    }
    throw error;
  }
}

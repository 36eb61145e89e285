import { sql } from 'drizzle-orm';
import {
  bigint,
  char,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { items } from './items.js';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

/**
 * One row per blob item: its metadata and where it is on its way to object storage
 * (`pending → uploading → uploaded`, or `failed` after the retry budget).
 */
export const blobs = pgTable(
  'blobs',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    sha256: char('sha256', { length: 64 }).notNull(),
    meta: jsonb('meta'),
    state: text('state', { enum: ['pending', 'uploading', 'uploaded', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    objectKey: text('object_key'),
    lastError: text('last_error'),
    uploadedAt: timestamp('uploaded_at', { withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.source, table.id] }),
    foreignKey({ columns: [table.source, table.id], foreignColumns: [items.source, items.id] }),
    check('blobs_state_check', sql`${table.state} in ('pending', 'uploading', 'uploaded', 'failed')`),
    // Claims scan only the unfinished blobs, oldest due first.
    index('blobs_claim_idx').on(table.nextAttemptAt).where(sql`${table.state} in ('pending', 'uploading')`),
    // The admin API's failed-blob pages and retries touch only the (few) failed blobs.
    index('blobs_failed_idx').on(table.source, table.id).where(sql`${table.state} = 'failed'`),
  ],
);

/**
 * The verified bytes of blobs not yet in object storage, kept apart from `blobs` so that claiming
 * and status queries never read them. A blob's bytes are the concatenation of its rows in `seq` order
 * (0, 1, 2, … without gaps; an empty blob has one empty row), so neither staging nor uploading ever
 * holds a whole blob in memory. The rows are deleted once the blob is uploaded.
 */
export const blobStaging = pgTable(
  'blob_staging',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    seq: integer('seq').notNull(),
    bytes: bytea('bytes').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.source, table.id, table.seq] }),
    foreignKey({ columns: [table.source, table.id], foreignColumns: [blobs.source, blobs.id] }),
  ],
);

/** A row of {@link blobs}. */
export type BlobRow = typeof blobs.$inferSelect;

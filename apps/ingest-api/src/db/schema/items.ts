import { sql } from 'drizzle-orm';
import { bigint, char, check, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { sources } from './sources.js';

/** Every record and blob ever accepted. The primary key (source, id) is the idempotency gate. */
export const items = pgTable(
  'items',
  {
    source: text('source')
      .notNull()
      .references(() => sources.name),
    id: text('id').notNull(),
    kind: text('kind', { enum: ['record', 'blob'] }).notNull(),
    type: text('type').notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    hash: char('hash', { length: 64 }).notNull(),
    data: jsonb('data'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.source, table.id] }),
    check('items_kind_check', sql`${table.kind} in ('record', 'blob')`),
    // The admin item search pages newest first by (received_at, source, id), across sources or in one.
    index('items_received_idx').on(table.receivedAt, table.source, table.id),
    index('items_source_received_idx').on(table.source, table.receivedAt, table.id),
  ],
);

/** A row of {@link items}. */
export type ItemRow = typeof items.$inferSelect;

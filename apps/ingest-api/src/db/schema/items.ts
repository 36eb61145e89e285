import { sql } from 'drizzle-orm';
import { bigint, char, check, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
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
  ],
);

/** A row of {@link items}. */
export type ItemRow = typeof items.$inferSelect;

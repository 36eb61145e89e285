import { bigint, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Items and bytes stored per source per minute, summed over every API process (each adds its own
 * counts about once a second). Rows older than the admin API's window are deleted.
 */
export const itemRates = pgTable(
  'item_rates',
  {
    source: text('source').notNull(),
    minute: timestamp('minute', { withTimezone: true }).notNull(),
    items: bigint('items', { mode: 'number' }).notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.source, table.minute] })],
);

import { boolean, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A producer of items; every item and key belongs to one source. */
export const sources = pgTable('sources', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API keys, stored only as the SHA-256 hex of the key. */
export const apiKeys = pgTable('api_keys', {
  keyHash: text('key_hash').primaryKey(),
  source: text('source')
    .notNull()
    .references(() => sources.name),
  disabled: boolean('disabled').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

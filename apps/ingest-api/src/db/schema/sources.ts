import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A producer of items; every item and key belongs to one source. */
export const sources = pgTable('sources', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * API keys, stored only as the SHA-256 hex of the key. A key is valid while it is neither `disabled`
 * nor revoked. `origin` says where it came from: `config` keys (`API_KEYS`, the development key) are
 * reconciled at every start — disabled when that start's configuration no longer lists them, enabled
 * again when it does — while `cli` keys (`sources:create`) stay until revoked. Revocation is final.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    keyHash: text('key_hash').primaryKey(),
    source: text('source')
      .notNull()
      .references(() => sources.name),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    origin: text('origin', { enum: ['config', 'cli'] })
      .notNull()
      .default('cli'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [check('api_keys_origin_check', sql`${table.origin} in ('config', 'cli')`)],
);

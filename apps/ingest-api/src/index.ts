export { type BuildAppOptions, buildApp } from './app.js';
export {
  type ApiKeySeed,
  type Config,
  DEV_API_KEY,
  isLoopbackHost,
  loadConfig,
  type S3Config,
} from './config.js';
export type { Database, Db, DbTransaction } from './db/database.js';
export * from './db/schema/index.js';
export * from './errors.js';
export {
  type InsertOutcome,
  insertItems,
  insertItemsInTransaction,
  type NewItem,
} from './ingest/insert-items.js';

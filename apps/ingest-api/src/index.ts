export { type BuildAppOptions, buildApp } from './app.js';
export {
  type ApiKeySeed,
  type AuthConfig,
  type Config,
  type DbConfig,
  DEV_API_KEY,
  type HttpConfig,
  isLoopbackHost,
  loadConfig,
  type MetricsConfig,
  type RateLimitConfig,
  type S3Config,
  type SpoolConfig,
  type WorkerConfig,
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

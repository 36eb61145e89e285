export type { RequeueResult } from './dead-letter-requeue.js';
export type { DeadLetter } from './dead-letter-store.js';
export type * from './disk-queue/types.js';
export * from './errors.js';
export type {
  DeadEvent,
  DeliveredEvent,
  ItemKind,
  RetryEvent,
  UploaderEvents,
  UploaderListener,
} from './events.js';
export { DEFAULT_UPLOADER_OPTIONS, type UploaderLogger, type UploaderOptions } from './options.js';
export {
  type BlobInput,
  createUploader,
  type FlushOptions,
  type FlushResult,
  type RecordInput,
  type Uploader,
  type UploaderStats,
} from './uploader.js';

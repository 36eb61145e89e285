// The public surface of @sluice/uploader-sdk: what an app needs to create an uploader, type its inputs,
// options, results and events, and tell its errors apart. Queue and lane internals stay internal.
export type { RequeueResult } from './dead-letter-requeue.js';
export type { DeadLetter, DeadLetterStatus } from './dead-letter-store.js';
export type { Durability, WhenFull } from './disk-queue/types.js';
export {
  AuthenticationError,
  EndpointError,
  isAuthenticationError,
  isEndpointError,
  isQueueFullError,
  isQueueLockedError,
  isQueueWriteError,
  isUploaderClosedError,
  QueueFullError,
  QueueLockedError,
  QueueWriteError,
  type QueueWriteOperation,
  UploaderClosedError,
} from './errors.js';
export type {
  DeadEvent,
  DeliveredEvent,
  ItemKind,
  RetryEvent,
  UploaderEvents,
  UploaderListener,
} from './events.js';
export type { FlushOptions, FlushResult } from './flush-tracker.js';
export type { BlobInput, RecordInput } from './item-input.js';
export { DEFAULT_UPLOADER_OPTIONS, type UploaderLogger, type UploaderOptions } from './options.js';
export {
  DEFAULT_TAIL_OPTIONS,
  type LinePosition,
  type Tail,
  type TailDirectoryOptions,
  type TailEvents,
  type TailFileStats,
  type TailListener,
  type TailOptions,
  type TailStats,
  tailDirectory,
  tailFile,
} from './tail/index.js';
export { createUploader } from './uploader.js';
export type { Uploader, UploaderStats } from './uploader-api.js';

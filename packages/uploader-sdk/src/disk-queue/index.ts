export { type LockHolder, readLockHolder } from './directory-lock.js';
export { openDiskQueue } from './disk-queue.js';
export { type DiskQueueSnapshot, inspectDiskQueue } from './inspect.js';
export { DISK_QUEUE_DEFAULTS } from './queue-options.js';
export type * from './types.js';

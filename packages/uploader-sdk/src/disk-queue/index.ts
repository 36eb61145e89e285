export { openDiskQueue } from './disk-queue.js';
export { DISK_QUEUE_DEFAULTS } from './queue-options.js';
export type * from './types.js';

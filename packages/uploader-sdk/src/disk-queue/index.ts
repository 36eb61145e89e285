export { DISK_QUEUE_DEFAULTS, openDiskQueue } from './disk-queue.js';
export type * from './types.js';

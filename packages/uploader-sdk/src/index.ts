export * from './errors.js';
export type * from './disk-queue/types.js';

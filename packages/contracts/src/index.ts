export * from './batch.js';
export * from './blob.js';
export * from './error-codes.js';
export * from './http.js';
export * from './idempotency.js';
export * from './item.js';
export * from './limits.js';
export * from './retry.js';

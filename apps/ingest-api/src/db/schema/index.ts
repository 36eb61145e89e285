export * from './blobs.js';
export * from './items.js';
export * from './sources.js';

export * from './blobs.js';
export * from './item-rates.js';
export * from './items.js';
export * from './sources.js';

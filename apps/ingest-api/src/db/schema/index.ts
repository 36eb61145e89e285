export * from './items.js';
export * from './sources.js';

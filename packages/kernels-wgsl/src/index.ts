export * from './kernel.js';
export * from './pipeline-cache.js';
export * from './elementwise/elementwise.js';
export * from './reduce/reduce.js';

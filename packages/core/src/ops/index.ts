export * from './shape.js';
export * from './creation/creation.js';
export * from './elementwise/elementwise.js';
export * from './reduce/reduce.js';

export * from './tuning.js';
export * from './simple.js';
export * from './gemm.js';
export * from './winograd.js';
export * from './winograd-gemm.js';
export * from './filter-patch.js';
export * from './col2im.js';

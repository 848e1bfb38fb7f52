export * from './shape.js';
export * from './creation/creation.js';
export * from './elementwise/elementwise.js';
export * from './reduce/reduce.js';
export * from './matmul/matmul.js';
export * from './pool/pool.js';
export * from './batchnorm/batchnorm.js';
export * from './conv2d/conv2d.js';
export * from './shape-ops/shape-ops.js';
export * from './softmax/softmax.js';
export * from './dropout/dropout.js';
//# sourceMappingURL=index.js.map
/// <reference types="@webgpu/types" preserve="true" />
export * from './kernel.js';
export * from './pipeline-cache.js';
export * from './elementwise/elementwise.js';
export * from './reduce/reduce.js';
export * from './optim/optim.js';
export * from './matmul/matmul.js';
export * from './conv2d/index.js';
export * from './pool/pool.js';
export * from './batchnorm/batchnorm.js';
export * from './batchnorm/batchnorm-apply.js';
export * from './layout/layout.js';
export * from './softmax/softmax.js';
export * from './dropout/dropout.js';
export * from './batchnorm/bn-relu-maxpool.js';
export * from './elementwise/where.js';
export * from './gather/gather.js';
export * from './grouped-conv/grouped-conv.js';

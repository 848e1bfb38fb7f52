/** The library's API, the same on every platform (the entries add the platform's own parts). */
export * from './runtime/device.js';
export * from './runtime/runtime.js';
export * from './runtime/buffer-pool.js';
export * from './runtime/global.js';
export * from './tensor.js';
export { tidy, keep } from './memory.js';
export * from './autograd.js';
export * from './random.js';
export * from './ops/index.js';
export * from './memory-stats.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './io/safetensors.js';
export type { DataFormat } from '@squeeze/kernels-wgsl';

export { batchNorm, batchNormRelu, batchNormReluConcat, type BatchNormOptions } from './batchnorm.js';
export { batchNormReluMaxPool, batchNormReluConcatMaxPool, conv2dBatchNormReluMaxPool } from './fused-pool.js';

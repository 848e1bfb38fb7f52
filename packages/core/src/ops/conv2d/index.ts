// The public face of conv2d: the op, its geometry, its passes (for benchmarks) and its planner.
export { conv2d, conv2dWithStatistics, type Conv2dOptions } from './conv2d.js';
export { conv2dGeometry, conv2dOutputShape, type Conv2dGeometry, type Conv2dPadding } from './geometry.js';
export { conv2dForward, conv2dBackwardData, conv2dBackwardFilter } from './passes.js';
export { planConv, describeConvPath, convTuningFor, type ConvTuning, type ConvAlgorithms, type ConvPath } from './plan.js';
export type { ChannelStatistics } from './common.js';

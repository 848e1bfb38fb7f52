import type { Tensor } from '../../tensor.js';
import { isGradEnabled, record } from '../../autograd.js';
import { conv2dGeometry, type Conv2dShapeOptions } from './geometry.js';
import { convTuningFor, dataAddsPending, planBackwardData, planBackwardFilter, planForward, type ConvTuning } from './plan.js';
import type { ChannelStatistics } from './common.js';
import { backwardDataOn, backwardFilterOn, forwardOn, sharedTransformedDy } from './passes.js';
import { biasGrad } from './filter.js';
import { winogradGemmBackward } from './winograd.js';
import { groupedConv2d } from '../grouped-conv/grouped-conv.js';

export interface Conv2dOptions extends Conv2dShapeOptions {
  /** [out] */
  bias?: Tensor;
  /** The algorithms and tiles to use; by default the adapter's (plan.ts, kernels-wgsl conv2d/tuning.ts). */
  tuning?: ConvTuning;
  /** Input and output channels split into this many groups (PyTorch's; default 1, C for depthwise). */
  groups?: number;
  /** Spacing between kernel taps (PyTorch's; default 1). */
  dilation?: number | [number, number];
}

/**
 * 2-D convolution (cross-correlation, as PyTorch and TensorFlow). x is [N, C, H, W] (NCHW, default)
 * or [N, H, W, C] (NHWC); w is always [out, in / groups, kh, kw].
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const { groups = 1, dilation = 1 } = opts;
  // Grouped (depthwise) and dilated convolutions have kernels of their own, planned apart.
  if (groups !== 1 || (typeof dilation === 'number' ? dilation !== 1 : dilation.some((d) => d !== 1))) return groupedConv2d(x, w, opts);
  return conv2dOp(x, w, opts, null).y;
}

/**
 * conv2d, and the batch-norm statistics of its output where the forward's kernel can sum them
 * (the plan's `statistics`; else null): shifted by `shift`, which must be the running mean of the
 * batch norm they are for. Pass them as that batch norm's `statistics` (training) so it skips its
 * own pass over y; the caller owns them (tidy frees them too).
 */
export function conv2dWithStatistics(x: Tensor, w: Tensor, opts: Conv2dOptions, shift: Tensor): { y: Tensor; statistics: ChannelStatistics | null } {
  return conv2dOp(x, w, opts, shift);
}

/** The op: plans its three passes once, runs the forward and records the gradient rule. */
function conv2dOp(x: Tensor, w: Tensor, opts: Conv2dOptions, shift: Tensor | null): { y: Tensor; statistics: ChannelStatistics | null } {
  const g = conv2dGeometry(x.shape, w.shape, opts);
  const bias = opts.bias ?? null;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== g.O)) throw new Error(`conv2d: bias must be [${g.O}], got [${bias.shape}]`);
  if (shift && (shift.rank !== 1 || shift.shape[0] !== g.O)) throw new Error(`conv2d: the statistics shift must be [${g.O}], got [${shift.shape}]`);
  const tuning = opts.tuning ?? convTuningFor(x.runtime.description);
  const tiles = tuning.tiles;
  const [forward, data, filter] = [planForward(g, tuning), planBackwardData(g, tuning), planBackwardFilter(g, tuning)];
  // Winograd-GEMM's transformed input serves the filter gradient too, and its transformed filter
  // the adjoint backward-data, when those passes will run and take them.
  const winogradForward = forward.algorithm === 'winogradGemm';
  const { dst: y, v: transformedX, u: transformedW, statistics } = forwardOn(forward, x, w, bias, g, tiles, {
    transformedX: winogradForward && filter.algorithm === 'winogradGemm' && isGradEnabled() && w.requiresGrad,
    transformedW: winogradForward && data.algorithm === 'winogradGemmAdjoint' && isGradEnabled() && x.requiresGrad,
    statisticsShift: shift,
  });
  const saved = [x, w, ...(transformedX ? [transformedX] : []), ...(transformedW ? [transformedW] : [])];
  record(y, 'conv2d', bias ? [x, w, bias] : [x, w], saved, (dy, [xs, ws, ...kept], needs, pending) => {
    const [vs, us] = [transformedX ? kept[0] : undefined, transformedW ? kept.at(-1) : undefined];
    // dy's Winograd transform, where both passes take it, is computed once.
    const z = needs[0] && needs[1] ? sharedTransformedDy(data, filter, dy, g, tiles) : null;
    // With Z and V at hand both Winograd passes run interleaved (winogradGemmBackward).
    const [dx, dw] = z && vs && data.algorithm === 'winogradGemmAdjoint' ? winogradGemmBackward(z, ws!, vs, g, tiles, data.m, us) : [
      // The first layer's input needs no gradient: its backward-data is skipped.
      // Where its kernel can, dx also adds the gradient x's other consumers produced (a fire module's two expands).
      needs[0] ? backwardDataOn(data, dy, ws!, g, tiles, z ?? undefined, us, dataAddsPending(data) ? pending.take(0) : null) : null,
      needs[1] ? backwardFilterOn(filter, xs!, dy, g, tiles, vs, z ?? undefined) : null,
    ];
    const grads = [dx, dw, needs[2] ? biasGrad(dy, g, tiles) : null];
    z?.dispose();
    return grads;
  });
  transformedX?.dispose();
  transformedW?.dispose();
  return { y, statistics };
}

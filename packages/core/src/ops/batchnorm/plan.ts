import { BN_FOLD_ABOVE, BN_STATS_PARTS } from '@squeeze/kernels-wgsl';
import { windowsTile, type Pool2dGeometry } from '../pool/pool.js';
import type { FilterPath } from '../conv2d/plan.js';
import type { BatchNormOptions } from './batchnorm.js';
import type { ChannelView } from './channel.js';
import type { OnePassGeometry } from './backward.js';

// Which batch-norm kernels run: one small decision each, read top to bottom.

/**
 * Where the batch statistics come from: eval uses the running ones; training takes the sums the
 * producing convolution's epilogue wrote (conv2dWithStatistics) where given, else a partial-sum pass over x.
 */
export type BnStatisticsPath = 'running' | 'fromProducer' | 'partialSums';

export function planStatistics(opts: Pick<BatchNormOptions, 'training' | 'statistics'>): BnStatisticsPath {
  if (!opts.training) return 'running';
  if (opts.statistics) return 'fromProducer';
  return 'partialSums';
}

/**
 * How the backward derives the channel gradients (dx coefficients, weight and bias gradients) from
 * the sums of g' and g'·x̂: in training with dx wanted, in one dispatch where the channels give
 * enough workgroups and no lane a run too long (bn_backward: each workgroup sums its channels, then
 * writes dx); else by the dx kernel adding its channel's partial sums (a partial-sum pass first,
 * spreading a long channel over more invocations); otherwise by bn_channel_grads.
 */
export type BnGradPath = 'onePass' | 'inDx' | 'channelGrads';

export function planChannelGrads(training: boolean, needX: boolean, onePass: OnePassGeometry): BnGradPath {
  if (training && needX && onePass.workgroups >= 4 && onePass.perLane <= 1024) return 'onePass';
  if (training && needX) return 'inDx';
  return 'channelGrads';
}

/** The kernel that derives a training table from partial sums itself: bn_apply or the fused pool's forward. */
export type ApplyKernel = 'apply' | 'pool';

/**
 * A producer's statistics that such a kernel adds itself (every invocation its channel's partials)
 * are first folded (bn_fold_partials) for the fused pool where they hold more than BN_STATS_PARTS
 * parts; bn_apply takes any number, its invocations lengthened to match (bnApplyChunk).
 */
export function planApplyFolds(parts: number, kernel: ApplyKernel): boolean {
  return kernel === 'pool' && parts > BN_STATS_PARTS;
}

/** Many partials per channel are first folded (bn_fold_partials) so that the per-channel pass that reads them is short. */
export function foldsPartials(parts: number, channels: number): boolean {
  return parts > BN_FOLD_ABOVE && channels % 4 === 0;
}

/**
 * batchNormReluMaxPool: the fused kernels (training, channels-last with C % 4 == 0, windows that tile
 * x: kernel == stride, no padding), else batchNormRelu then maxPool2d.
 */
export type BnPoolPath = 'fused' | 'bnReluThenPool';

export function planBnReluMaxPool(bn: Pick<BatchNormOptions, 'training'>, v: ChannelView, g: Pool2dGeometry): BnPoolPath {
  if (bn.training && v.layout === 'NHWC' && v.vec && windowsTile(g)) return 'fused';
  return 'bnReluThenPool';
}

/**
 * Whether the fused pool's forward derives the parameter table itself (from partial sums, as
 * bn_apply does), which its bindings allow unless it takes weight, bias and saves positions (nine
 * storage buffers, past the eight WebGPU guarantees); else bn_channel_params writes the table first.
 */
export function planPoolDerivesTable(hasWeight: boolean, hasBias: boolean, savePositions: boolean): boolean {
  return !(hasWeight && hasBias && savePositions);
}

/**
 * conv2dBatchNormReluMaxPool: where the pool runs fused and the convolution (without bias) takes the
 * small-patch filter gradient, that kernel computes the convolution's output gradient itself from
 * the pooled one; else the convolution, then batchNormReluMaxPool.
 */
export type ConvBnPoolPath = 'fusedWithFilterPatch' | 'convThenBnPool';

export function planConvBnReluMaxPool(hasBias: boolean, pool: BnPoolPath, filter: FilterPath): ConvBnPoolPath {
  if (!hasBias && pool === 'fused' && filter.algorithm === 'filterPatch') return 'fusedWithFilterPatch';
  return 'convThenBnPool';
}

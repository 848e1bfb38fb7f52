import {
  bnPartialSumsKernel, bnChannelParamsKernel, bnFoldPartialsKernel, BN_FOLD, bnChannelGradsKernel, bnApplyInvocations,
  linearWorkgroups, BN_WG, BN_REDUCE_CHUNK, BN_GRAD_PARTS, BN_STATS_PARTS, BN_APPLY_CHUNK, type DataFormat, type BnReduceMode, type BnDerivedSums,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import type { BatchNormOptions } from './batchnorm.js';
import { foldsPartials, planApplyFolds, planStatistics, type ApplyKernel } from './plan.js';
import type { ChannelStatistics } from '../conv2d/common.js';

// The per-channel machinery every batch-norm kernel shares: how the kernels see x, the partial sums,
// the [4, C] parameter table and the channel gradients.

/** How the kernels see x: see packages/kernels-wgsl/src/batchnorm/batchnorm.ts. */
export interface ChannelView {
  layout: DataFormat;
  vec: boolean;
  c: number;
  /** elements per channel (N·S) */
  count: number;
  /** channels-first: images and spatial size */
  n: number;
  s: number;
}

export function channelView(shape: readonly number[], dataFormat: DataFormat): ChannelView {
  if (shape.length < 2) throw new Error(`batchNorm needs an input of rank 2 or more, got [${shape}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (dataFormat === 'NHWC' || shape.length === 2) {
    const c = shape[shape.length - 1]!;
    return { layout: 'NHWC', vec: c % 4 === 0, c, count: size / c, n: size / c, s: 1 };
  }
  const [n, c] = [shape[0]!, shape[1]!];
  const s = size / (n * c);
  return { layout: 'NCHW', vec: s % 4 === 0, c, count: n * s, n, s };
}

function checkChannelTensor(t: Tensor | null | undefined, c: number, what: string): void {
  if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new Error(`batchNorm ${what} must have shape [${c}], got [${t.shape}]`);
}

/**
 * Vectors (rows) one partial sums and the partials per channel: runs of BN_REDUCE_CHUNK, lengthened
 * where `maxParts` caps their number.
 */
export function reduceChunks(perChannel: number, maxParts = Infinity): { chunk: number; parts: number } {
  const chunk = Math.max(BN_REDUCE_CHUNK, Math.ceil(perChannel / maxParts));
  return { chunk, parts: Math.ceil(perChannel / chunk) };
}

/** Partials per channel of the partial-sum pass, at most `maxParts`. */
function reduceGeometry(v: ChannelView, maxParts: number): { parts: number; invocations: number; uniforms: Record<string, number> } {
  if (v.layout === 'NCHW') {
    const sv = v.vec ? v.s / 4 : v.s;
    const perChannel = v.n * sv;
    const { chunk, parts } = reduceChunks(perChannel, maxParts);
    return { parts, invocations: v.c * parts, uniforms: { c: v.c, parts, chunk, perChannel, sv, planeStride: v.c * sv } };
  }
  const cv = v.vec ? v.c / 4 : v.c;
  const { chunk, parts } = reduceChunks(v.count, maxParts);
  return { parts, invocations: cv * parts, uniforms: { c: v.c, cv, parts, chunk, rows: v.count } };
}

/**
 * One pass over x (and g, laid out as `wide` says): per-channel partial sums [2, parts, C], at most
 * BN_GRAD_PARTS (the backward's) or BN_STATS_PARTS (the forward's, with `capped`) of them where a
 * kernel adds them per invocation.
 */
export function partialSums(v: ChannelView, mode: BnReduceMode, x: Tensor, g?: Tensor, params?: Tensor, wide?: WideView, capped = mode !== 'stats'): { partials: Tensor; parts: number } {
  const geo = reduceGeometry(v, !capped ? Infinity : mode === 'stats' ? BN_STATS_PARTS : BN_GRAD_PARTS);
  const partials = allocTensor([2, geo.parts, v.c]);
  const bindings = mode === 'stats' ? [x, partials] : [x, g!, params!, partials];
  const uniforms = mode === 'stats' ? geo.uniforms : { ...geo.uniforms, ...wideUniforms(v, wide!) };
  x.runtime.run(bnPartialSumsKernel, { layout: v.layout, vec: v.vec, mode }, bindings, uniforms, linearWorkgroups(geo.invocations, BN_WG));
  return { partials, parts: geo.parts };
}

/** Where y (or g) sits: `channels` channels in all along the channel axis, this one's from `offset`. */
export interface WideView { channels: number; offset: number }

/** The wide-tensor uniforms of the kernels (see kernels-wgsl batchnorm.ts) for a view. */
export function wideUniforms(v: ChannelView, wide: WideView): Record<string, number> {
  if (v.layout === 'NCHW') {
    const sv = v.vec ? v.s / 4 : v.s;
    return { widePlane: wide.channels * sv, wideOffset: wide.offset * sv };
  }
  const q = v.vec ? 4 : 1;
  return { wideRow: wide.channels / q, wideCol: wide.offset / q };
}

/** Uniforms and invocations of the apply and dx passes. */
export function elementwiseGeometry(v: ChannelView, size: number, wide: WideView): { invocations: number; uniforms: Record<string, number> } {
  const vectors = v.vec ? size / 4 : size;
  if (v.layout === 'NCHW') {
    return {
      invocations: bnApplyInvocations(v.layout, vectors, 1),
      uniforms: { n: vectors, c: v.c, sv: v.vec ? v.s / 4 : v.s, ...wideUniforms(v, wide) },
    };
  }
  const cv = v.vec ? v.c / 4 : v.c;
  return {
    invocations: bnApplyInvocations(v.layout, vectors, cv),
    uniforms: { rows: v.count, rowBlocks: Math.ceil(v.count / BN_APPLY_CHUNK), c: v.c, cv, ...wideUniforms(v, wide) },
  };
}

/**
 * Invocations of bn_apply deriving its table from partial sums (BnApplyParams.fromSums): one per
 * channel (vector) and `chunk` of its vectors.
 */
export function derivedApplyInvocations(v: ChannelView, chunk: number): number {
  const channels = v.layout === 'NCHW' || !v.vec ? v.c : v.c / 4;
  const perChannel = v.layout === 'NCHW' ? v.n * (v.vec ? v.s / 4 : v.s) : v.count;
  return channels * Math.ceil(perChannel / chunk);
}

/** The [4, C] table of a batch norm (batch statistics in training, updating the running ones). */
export interface ChannelParams {
  params: Tensor;
  /** weight and bias, those given, in that order (the op's inputs from `firstAffine` on) */
  affine: Tensor[];
  weightIndex: number;
  biasIndex: number;
  /**
   * With `inApply`, where the apply derives the table and writes it: in eval from these (running mean,
   * running variance, then weight and bias where given; BnApplyParams.fromRunning), in training with
   * partial sums too (x's own 'stats' partials, or its producer's statistics, first; fromSums, which
   * also updates the running statistics). The caller frees `temporary` after the apply.
   */
  derived?: {
    tensors: Tensor[];
    /** null: fromRunning; else the kernels' fromSums */
    sums: BnDerivedSums | null;
    flags: { hasWeight: boolean; hasBias: boolean };
    uniforms: Record<string, number>;
    temporary: Tensor | null;
  };
}

/**
 * `firstAffine`: the op-input index of weight (else bias): 1 after x, 2 after a convolution's x and w.
 * `inApply`: the caller's kernel (bn_apply, or the fused pool's forward) derives the table itself, see `derived`.
 */
export function channelParams(x: Tensor, v: ChannelView, opts: BatchNormOptions, firstAffine = 1, inApply: ApplyKernel | null = null): ChannelParams {
  const weight = opts.weight ?? null;
  const bias = opts.bias ?? null;
  const { runningMean, runningVar, training } = opts;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  checkChannelTensor(weight, v.c, 'weight');
  checkChannelTensor(bias, v.c, 'bias');
  checkChannelTensor(runningMean, v.c, 'runningMean');
  checkChannelTensor(runningVar, v.c, 'runningVar');
  if (training && v.count < 2) throw new Error(`batchNorm training needs more than one value per channel, got input [${x.shape}]`);
  const rt = x.runtime;

  // Channel parameters [4, C]: mean, 1/std, scale, shift.
  const params = allocTensor([4, v.c]);
  const paramsKernel = { training, hasWeight: !!weight, hasBias: !!bias };
  const affine = [...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const channelWorkgroups = linearWorkgroups(v.c, BN_WG);
  const given = training ? opts.statistics ?? null : null;
  if (given) {
    if (given.shift !== runningMean) throw new Error('batchNorm: the given statistics must be shifted by this batch norm\'s runningMean');
    if (given.partials.size !== (2 * given.parts + 1) * v.c) throw new Error(`batchNorm: the given statistics [${given.partials.shape}] do not hold (2 × ${given.parts} parts + 1) × ${v.c} channels`);
  }
  const statistics = planStatistics(opts);
  const indices = { weightIndex: weight ? firstAffine : -1, biasIndex: bias ? firstAffine + (weight ? 1 : 0) : -1 };
  if (inApply) {
    const flags = { hasWeight: !!weight, hasBias: !!bias };
    if (statistics === 'running') return { params, affine, ...indices, derived: { tensors: [runningMean, runningVar, ...affine], sums: null, flags, uniforms: { eps }, temporary: null } };
    const producer = statistics === 'fromProducer';
    const sums = producer ? foldedStatistics(given!, v.c, inApply) : partialSums(v, 'stats', x, undefined, undefined, undefined, true);
    return {
      params, affine, ...indices,
      derived: {
        tensors: [sums.partials, runningMean, runningVar, ...affine], sums: { ...flags, ...(producer ? { producer } : {}) }, flags,
        uniforms: { eps, parts: sums.parts, channelSize: v.count, momentum, unbias: v.count / (v.count - 1) },
        temporary: sums.partials === given?.partials ? null : sums.partials,
      },
    };
  }
  if (statistics !== 'running') {
    const sums = statistics === 'fromProducer' ? given! : partialSums(v, 'stats', x);
    withFolded(sums, v.c, ({ partials, parts }) => rt.run(bnChannelParamsKernel, { ...paramsKernel, ...(given ? { shiftIsRunningMean: true } : {}) }, [...(given ? [] : [x]), partials, runningMean, runningVar, ...affine, params], {
      c: v.c, eps, parts, channelStride: v.layout === 'NCHW' ? v.s : 1, count: v.count, momentum,
      unbias: v.count / (v.count - 1),
    }, channelWorkgroups));
    if (!given) sums.partials.dispose();
  } else {
    rt.run(bnChannelParamsKernel, paramsKernel, [runningMean, runningVar, ...affine, params], { c: v.c, eps }, channelWorkgroups);
  }
  return { params, affine, ...indices };
}

/**
 * A producer's statistics for a kernel that adds them itself: as given, or where planApplyFolds says,
 * a copy folded BN_FOLD to 1, shift row included, which the caller frees.
 */
function foldedStatistics(given: ChannelStatistics, c: number, kernel: ApplyKernel): { partials: Tensor; parts: number } {
  if (!planApplyFolds(given.parts, kernel)) return given;
  const parts = Math.ceil(given.parts / BN_FOLD);
  const partials = allocTensor([2 * parts + 1, c]);
  given.partials.runtime.run(bnFoldPartialsKernel, { shiftRow: true }, [given.partials, partials],
    { parts: given.parts, foldedParts: parts, cv: c / 4 }, linearWorkgroups((2 * parts + 1) * c / 4, BN_WG));
  return { partials, parts };
}

/**
 * Runs `use` (a per-channel pass adding [2, parts, C] partials) on `p`, or, with more than
 * BN_FOLD_ABOVE parts and C % 4 == 0, on a copy folded BN_FOLD to 1 (bnFoldPartialsKernel) so that
 * pass is short; the copy is freed after. `p` stays the caller's.
 */
export function withFolded(p: { partials: Tensor; parts: number }, c: number, use: (sums: { partials: Tensor; parts: number }) => void): void {
  if (!foldsPartials(p.parts, c)) { use(p); return; }
  const parts = Math.ceil(p.parts / BN_FOLD);
  const partials = allocTensor([2, parts, c]);
  p.partials.runtime.run(bnFoldPartialsKernel, {}, [p.partials, partials], { parts: p.parts, foldedParts: parts, cv: c / 4 }, linearWorkgroups(2 * parts * c / 4, BN_WG));
  use({ partials, parts });
  partials.dispose();
}

/** Which of weight and bias the backward must give a gradient (`needs`: per op input). */
export function affineGradsNeeded(cp: ChannelParams, needs: boolean[]): { weightGrad: boolean; biasGrad: boolean } {
  return { weightGrad: cp.weightIndex >= 0 && needs[cp.weightIndex]!, biasGrad: cp.biasIndex >= 0 && needs[cp.biasIndex]! };
}

/**
 * The weight and bias gradient tensors `needs` asks for, put into `grads` at their input indices
 * (for a kernel that writes them), and their flags.
 */
export function affineGradOutputs(cp: ChannelParams, c: number, needs: boolean[], grads: Array<Tensor | null>) {
  const { weightGrad, biasGrad } = affineGradsNeeded(cp, needs);
  const dweight = weightGrad ? allocTensor([c]) : null;
  const dbias = biasGrad ? allocTensor([c]) : null;
  if (dweight) grads[cp.weightIndex] = dweight;
  if (dbias) grads[cp.biasIndex] = dbias;
  return { flags: { weightGrad, biasGrad }, tensors: [dweight, dbias].filter((t): t is Tensor => t !== null) };
}

/**
 * The dx coefficients (when `coefs`) and the weight and bias gradients (those `needs` asks for) from
 * 'grad' partial sums; the gradients land in `grads` at their input indices.
 */
export function channelGrads(
  rt: Tensor['runtime'], cp: ChannelParams, ps: Tensor, partials: { partials: Tensor; parts: number }, c: number, count: number,
  training: boolean, coefs: boolean, needs: boolean[], grads: Array<Tensor | null>,
): Tensor | null {
  const { weightGrad, biasGrad } = affineGradsNeeded(cp, needs);
  const coefTensor = coefs ? allocTensor([3, c]) : null;
  const dweight = weightGrad ? allocTensor([c]) : null;
  const dbias = biasGrad ? allocTensor([c]) : null;
  const outs = [coefTensor, dweight, dbias].filter((t): t is Tensor => t !== null);
  withFolded(partials, c, (sums) => rt.run(bnChannelGradsKernel, { training, coefs, weightGrad, biasGrad }, [sums.partials, ps, ...outs],
    { c, parts: sums.parts, count }, linearWorkgroups(c, BN_WG)));
  if (dweight) grads[cp.weightIndex] = dweight;
  if (dbias) grads[cp.biasIndex] = dbias;
  return coefTensor;
}

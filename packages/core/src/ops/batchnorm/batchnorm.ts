import {
  bnPartialSumsKernel, bnChannelParamsKernel, bnFoldPartialsKernel, BN_FOLD, BN_FOLD_ABOVE, bnApplyKernel, bnChannelGradsKernel, bnDxKernel, dxReadsX, bnApplyInvocations,
  linearWorkgroups, BN_WG, BN_REDUCE_CHUNK, BN_APPLY_CHUNK, type BnLayout, type BnReduceMode,
  bnReluMaxPoolForwardKernel, bnReluMaxPoolGradSumsKernel, bnReluMaxPoolDxKernel,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { isGradEnabled, record } from '../../autograd.js';
import { maxPool2d, pool2dGeometry, windowsTile, type Pool2dGeometry, type Pool2dOptions } from '../pool/pool.js';
import { conv2d, type Conv2dOptions } from '../conv2d/conv2d.js';
import { conv2dGeometry, conv2dOutputShape } from '../conv2d/geometry.js';
import { convTuningFor, planBackwardFilter } from '../conv2d/plan.js';
import { conv2dBackwardData, conv2dForwardWith } from '../conv2d/passes.js';
import { conv2dFilterPatch } from '../conv2d/filter.js';
import type { ChannelStatistics } from '../conv2d/common.js';

export interface BatchNormOptions {
  /** per-channel scale γ [C]; none = 1 */
  weight?: Tensor | null;
  /** per-channel shift β [C]; none = 0 */
  bias?: Tensor | null;
  /** [C], updated in place in training */
  runningMean: Tensor;
  /** [C], updated in place in training (with the unbiased batch variance) */
  runningVar: Tensor;
  /** training: normalise with the batch statistics (biased variance); eval: with the running ones */
  training: boolean;
  /** PyTorch meaning: running = (1 − momentum)·running + momentum·batch. Default 0.1. */
  momentum?: number;
  /** added to the variance. Default 1e-5. */
  eps?: number;
  /** channel axis 1 (NCHW, default) or last (NHWC); a rank-2 [N, C] input has it at 1 either way */
  dataFormat?: 'NCHW' | 'NHWC';
  /**
   * Training: the statistics of x as its producer summed them (conv2dWithStatistics, shifted by
   * this batch norm's runningMean), used instead of a pass over x. Ignored in eval.
   */
  statistics?: ChannelStatistics | null;
}

/** How the kernels see x: see packages/kernels-wgsl/src/batchnorm/batchnorm.ts. */
interface ChannelView {
  layout: BnLayout;
  vec: boolean;
  c: number;
  /** elements per channel (N·S) */
  count: number;
  /** channels-first: images and spatial size */
  n: number;
  s: number;
}

function channelView(shape: readonly number[], dataFormat: 'NCHW' | 'NHWC'): ChannelView {
  if (shape.length < 2) throw new Error(`batchNorm needs an input of rank 2 or more, got [${shape}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (dataFormat === 'NHWC' || shape.length === 2) {
    const c = shape[shape.length - 1]!;
    return { layout: 'channelsLast', vec: c % 4 === 0, c, count: size / c, n: size / c, s: 1 };
  }
  const [n, c] = [shape[0]!, shape[1]!];
  const s = size / (n * c);
  return { layout: 'channelsFirst', vec: s % 4 === 0, c, count: n * s, n, s };
}

function checkChannelTensor(t: Tensor | null | undefined, c: number, what: string): void {
  if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new Error(`batchNorm ${what} must have shape [${c}], got [${t.shape}]`);
}

/** Vectors per channel and partials per channel of the partial-sum pass. */
function reduceGeometry(v: ChannelView): { parts: number; invocations: number; uniforms: Record<string, number> } {
  if (v.layout === 'channelsFirst') {
    const sv = v.vec ? v.s / 4 : v.s;
    const perChannel = v.n * sv;
    const parts = Math.ceil(perChannel / BN_REDUCE_CHUNK);
    return { parts, invocations: v.c * parts, uniforms: { c: v.c, parts, perChannel, sv, planeStride: v.c * sv } };
  }
  const cv = v.vec ? v.c / 4 : v.c;
  const parts = Math.ceil(v.count / BN_REDUCE_CHUNK);
  return { parts, invocations: cv * parts, uniforms: { c: v.c, cv, parts, rows: v.count } };
}

/** One pass over x (and g, laid out as `wide` says): per-channel partial sums [2, parts, C]. */
function partialSums(v: ChannelView, mode: BnReduceMode, x: Tensor, g?: Tensor, params?: Tensor, wide?: WideView): { partials: Tensor; parts: number } {
  const geo = reduceGeometry(v);
  const partials = allocTensor([2, geo.parts, v.c]);
  const bindings = mode === 'stats' ? [x, partials] : [x, g!, params!, partials];
  const uniforms = mode === 'stats' ? geo.uniforms : { ...geo.uniforms, ...wideUniforms(v, wide!) };
  x.runtime.run(bnPartialSumsKernel, { layout: v.layout, vec: v.vec, mode }, bindings, uniforms, linearWorkgroups(geo.invocations, BN_WG));
  return { partials, parts: geo.parts };
}

/** Where y (or g) sits: `channels` channels in all along the channel axis, this one's from `offset`. */
interface WideView { channels: number; offset: number }

/** The wide-tensor uniforms of the kernels (see kernels-wgsl batchnorm.ts) for a view. */
function wideUniforms(v: ChannelView, wide: WideView): Record<string, number> {
  if (v.layout === 'channelsFirst') {
    const sv = v.vec ? v.s / 4 : v.s;
    return { widePlane: wide.channels * sv, wideOffset: wide.offset * sv };
  }
  const q = v.vec ? 4 : 1;
  return { wideRow: wide.channels / q, wideCol: wide.offset / q };
}

/** Uniforms and invocations of the apply and dx passes. */
function elementwiseGeometry(v: ChannelView, size: number, wide: WideView): { invocations: number; uniforms: Record<string, number> } {
  const vectors = v.vec ? size / 4 : size;
  if (v.layout === 'channelsFirst') {
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

/** One batch norm's forward, writing y into `y` (all of it, or its channel slice `slice`). */
interface BnForward {
  /** [4, C] per-channel mean, 1/std, scale, shift: saved for the backward. */
  params: Tensor;
  /** the inputs that get gradients: x, then weight and bias when given. */
  inputs: Tensor[];
  /** computes the gradients of `inputs` from g (laid out as y) with x and params as saved. */
  backward: (g: Tensor, xs: Tensor, ps: Tensor, needs: boolean[]) => Array<Tensor | null>;
}

/** The [4, C] table of a batch norm (batch statistics in training, updating the running ones). */
interface ChannelParams {
  params: Tensor;
  /** weight and bias, those given, in that order (the op's inputs from `firstAffine` on) */
  affine: Tensor[];
  weightIndex: number;
  biasIndex: number;
}

/** `firstAffine`: the op-input index of weight (else bias): 1 after x, 2 after a convolution's x and w. */
function channelParams(x: Tensor, v: ChannelView, opts: BatchNormOptions, firstAffine = 1): ChannelParams {
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
    if (given.partials.size !== 2 * given.parts * v.c) throw new Error(`batchNorm: the given statistics [${given.partials.shape}] do not hold 2 × ${given.parts} parts × ${v.c} channels`);
  }
  if (training) {
    const sums = given ?? partialSums(v, 'stats', x);
    withFolded(sums, v.c, ({ partials, parts }) => rt.run(bnChannelParamsKernel, { ...paramsKernel, ...(given ? { shiftIsRunningMean: true } : {}) }, [...(given ? [] : [x]), partials, runningMean, runningVar, ...affine, params], {
      c: v.c, eps, parts, channelStride: v.layout === 'channelsFirst' ? v.s : 1, count: v.count, momentum,
      unbias: v.count / (v.count - 1),
    }, channelWorkgroups));
    if (!given) sums.partials.dispose();
  } else {
    rt.run(bnChannelParamsKernel, paramsKernel, [runningMean, runningVar, ...affine, params], { c: v.c, eps }, channelWorkgroups);
  }
  return { params, affine, weightIndex: weight ? firstAffine : -1, biasIndex: bias ? firstAffine + (weight ? 1 : 0) : -1 };
}

/**
 * Runs `use` (a per-channel pass adding [2, parts, C] partials) on `p`, or, with more than
 * BN_FOLD_ABOVE parts and C % 4 == 0, on a copy folded BN_FOLD to 1 (bnFoldPartialsKernel) so that
 * pass is short; the copy is freed after. `p` stays the caller's.
 */
function withFolded(p: { partials: Tensor; parts: number }, c: number, use: (sums: { partials: Tensor; parts: number }) => void): void {
  if (p.parts <= BN_FOLD_ABOVE || c % 4 !== 0) { use(p); return; }
  const parts = Math.ceil(p.parts / BN_FOLD);
  const partials = allocTensor([2, parts, c]);
  p.partials.runtime.run(bnFoldPartialsKernel, {}, [p.partials, partials], { parts: p.parts, foldedParts: parts, cv: c / 4 }, linearWorkgroups(2 * parts * c / 4, BN_WG));
  use({ partials, parts });
  partials.dispose();
}

/** Which of weight and bias the backward must give a gradient (`needs`: per op input). */
function affineGradsNeeded(cp: ChannelParams, needs: boolean[]): { weightGrad: boolean; biasGrad: boolean } {
  return { weightGrad: cp.weightIndex >= 0 && needs[cp.weightIndex]!, biasGrad: cp.biasIndex >= 0 && needs[cp.biasIndex]! };
}

/**
 * The dx coefficients (when `coefs`) and the weight and bias gradients (those `needs` asks for) from
 * 'grad' partial sums; the gradients land in `grads` at their input indices.
 */
function channelGrads(
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

function batchNormForward(x: Tensor, opts: BatchNormOptions, relu: boolean, y: Tensor, slice?: WideView): BnForward {
  const compact = channelView(x.shape, opts.dataFormat ?? 'NCHW');
  const wide = slice ?? { channels: compact.c, offset: 0 };
  // vec4 access must line up in the wide tensor too (channels-last: its rows and our offset).
  const v = compact.layout === 'channelsLast' && (wide.channels % 4 !== 0 || wide.offset % 4 !== 0) ? { ...compact, vec: false } : compact;
  const rt = x.runtime;
  const training = opts.training;
  const cp = channelParams(x, v, opts);
  const params = cp.params;

  const ew = elementwiseGeometry(v, x.size, wide);
  rt.run(bnApplyKernel, { layout: v.layout, vec: v.vec, relu }, [x, params, y], ew.uniforms, linearWorkgroups(ew.invocations, BN_WG));

  const inputs = [x, ...cp.affine];
  const backward = (g: Tensor, xs: Tensor, ps: Tensor, needs: boolean[]): Array<Tensor | null> => {
    const needX = needs[0]!;
    const { weightGrad, biasGrad } = affineGradsNeeded(cp, needs);
    const grads: Array<Tensor | null> = inputs.map(() => null);
    // Training dx needs the batch sums too; eval dx is just scale·g'.
    const coefs = training && needX;
    let coefTensor: Tensor | null = null;
    if (coefs || weightGrad || biasGrad) {
      const sums = partialSums(v, relu ? 'gradRelu' : 'grad', xs, g, ps, wide);
      coefTensor = channelGrads(rt, cp, ps, sums, v.c, v.count, training, coefs, needs, grads);
      sums.partials.dispose();
    }
    if (needX) {
      const dx = allocTensor(xs.shape);
      const p = { layout: v.layout, vec: v.vec, relu, training };
      const bindings = [g, ...(dxReadsX(p) ? [xs] : []), ps, ...(coefTensor ? [coefTensor] : []), dx];
      rt.run(bnDxKernel, p, bindings, ew.uniforms, linearWorkgroups(ew.invocations, BN_WG));
      grads[0] = dx;
    }
    coefTensor?.dispose();
    return grads;
  };
  return { params, inputs, backward };
}

function batchNormImpl(x: Tensor, opts: BatchNormOptions, relu: boolean): Tensor {
  const y = allocTensor(x.shape);
  const bn = batchNormForward(x, opts, relu, y);
  record(y, relu ? 'batchNormRelu' : 'batchNorm', bn.inputs, [x, bn.params], (g, [xs, ps], needs) => bn.backward(g, xs!, ps!, needs));
  bn.params.dispose();
  return y;
}

/**
 * concat([relu(batchNorm(x_i, opts_i)) …]) along the channel axis, each branch's normalisation
 * writing its channel slice of the output directly (no separate branch outputs, no copies), and
 * each branch's backward reading its slice of the gradient. `scopes` name the branches in traces.
 * This is a fire module's expand1x1 ‖ expand3x3 join.
 */
export function batchNormReluConcat(xs: readonly Tensor[], opts: readonly BatchNormOptions[], scopes: readonly string[] = []): Tensor {
  const { axis, channels, total } = concatLayout('batchNormReluConcat', xs, opts);
  const first = xs[0]!;
  const outShape = [...first.shape];
  outShape[axis] = total;
  const y = allocTensor(outShape);
  const rt = first.runtime;
  const inScope = branchScopes(rt, scopes);
  let offset = 0;
  const branches = xs.map((x, i) => {
    const bn = inScope(i, () => batchNormForward(x, opts[i]!, true, y, { channels: total, offset }));
    offset += channels[i]!;
    return bn;
  });
  const inputs = branches.flatMap((b) => b.inputs);
  const saved = branches.flatMap((b, i) => [xs[i]!, b.params]);
  record(y, 'batchNormReluConcat', inputs, saved, (g, s, needs) => {
    let at = 0;
    return branches.flatMap((b, i) => {
      const branchNeeds = needs.slice(at, at + b.inputs.length);
      at += b.inputs.length;
      return inScope(i, () => b.backward(g, s[2 * i]!, s[2 * i + 1]!, branchNeeds));
    });
  });
  for (const b of branches) b.params.dispose();
  return y;
}

/** The channel axis and channel counts of a concatenation's branches, checked to agree elsewhere. */
function concatLayout(op: string, xs: readonly Tensor[], opts: readonly BatchNormOptions[]) {
  if (xs.length === 0 || xs.length !== opts.length) throw new Error(`${op}: needs one options object per input, got ${xs.length} inputs and ${opts.length} options`);
  const dataFormat = opts[0]!.dataFormat ?? 'NCHW';
  if (opts.some((o) => (o.dataFormat ?? 'NCHW') !== dataFormat)) throw new Error(`${op}: every branch must use the same dataFormat`);
  const first = xs[0]!;
  const axis = dataFormat === 'NHWC' || first.rank === 2 ? first.rank - 1 : 1;
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new Error(`${op}: shapes ${xs.map((t) => `[${t.shape}]`).join(', ')} differ off the channel axis ${axis}`);
    }
  }
  const channels = xs.map((x) => x.shape[axis]!);
  return { dataFormat, axis, channels, total: channels.reduce((a, b) => a + b, 0) };
}

/** Runs branch i's work under its trace scope, where one is named. */
function branchScopes(rt: Tensor['runtime'], scopes: readonly string[]) {
  return <T>(i: number, fn: () => T): T => (scopes[i] ? rt.scope(scopes[i]!, fn) : fn());
}

/**
 * maxPool2d(batchNormReluConcat(xs, opts, scopes), pool) — a fire module followed by a pool
 * (SqueezeNet's fire4 → pool4, fire8 → pool8). Max-pooling works channel by channel, so each branch
 * runs batchNormReluMaxPool's fused kernels into its channel slice of the pooled concatenation: the
 * full-size concatenation is never written, nor is its gradient. Where those kernels do not apply to
 * every branch (training, NHWC, channels % 4 == 0, windows that tile), the two ops run in sequence.
 */
export function batchNormReluConcatMaxPool(xs: readonly Tensor[], opts: readonly BatchNormOptions[], pool: Pool2dOptions, scopes: readonly string[] = []): Tensor {
  const { dataFormat, channels, total } = concatLayout('batchNormReluConcatMaxPool', xs, opts);
  const geometries = xs.map((x) => pool2dGeometry(x.shape, pool));
  const views = xs.map((x) => channelView(x.shape, dataFormat));
  const fused = (pool.dataFormat ?? 'NCHW') === dataFormat && xs.every((_, i) => fusedPoolApplies(opts[i]!, views[i]!, geometries[i]!));
  if (!fused) return maxPool2d(batchNormReluConcat(xs, opts, scopes), pool);
  const rt = xs[0]!.runtime;
  const inScope = branchScopes(rt, scopes);
  const g0 = geometries[0]!;
  const y = allocTensor([g0.n, g0.oh, g0.ow, total]);
  const savePositions = isGradEnabled() && (xs.some((t) => t.requiresGrad) || opts.some((o) => !!(o.weight?.requiresGrad || o.bias?.requiresGrad)));
  let offset = 0;
  const branches = xs.map((x, i) => inScope(i, () => {
    const cp = channelParams(x, views[i]!, opts[i]!);
    const f = fusedPoolForward(x, views[i]!, cp, geometries[i]!, savePositions, { y, channels: total, offset });
    offset += channels[i]!;
    return { cp, f, inputs: [x, ...cp.affine] };
  }));
  if (savePositions) {
    const inputs = branches.flatMap((b) => b.inputs);
    const saved = branches.flatMap((b, i) => [xs[i]!, b.cp.params, b.f.positions!]);
    record(y, 'batchNormReluConcatMaxPool', inputs, saved, (grad, s, needs) => {
      let at = 0;
      return branches.flatMap((b, i) => inScope(i, () => {
        const branchNeeds = needs.slice(at, at + b.inputs.length);
        at += b.inputs.length;
        const [xs3, ps, pos] = [s[3 * i]!, s[3 * i + 1]!, s[3 * i + 2]!];
        const grads: Array<Tensor | null> = b.inputs.map(() => null);
        const coefs = fusedPoolGrads(rt, xs3, grad, pos, ps, b.cp, views[i]!, geometries[i]!, branchNeeds[0]!, branchNeeds, grads, b.f.windows);
        if (coefs) {
          grads[0] = fusedPoolDx(xs3, grad, pos, ps, coefs, b.f);
          coefs.dispose();
        }
        return grads;
      }));
    });
  }
  for (const b of branches) {
    b.cp.params.dispose();
    b.f.positions?.dispose();
  }
  return y;
}

/**
 * Batch normalisation over the channel axis (1 for NCHW, last for NHWC, 1 for [N, C]). Training
 * normalises with the batch mean and biased variance and updates the running stats in place
 * (unbiased variance, PyTorch momentum); eval uses the running stats. Gradients flow to x,
 * weight and bias in both modes.
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions): Tensor {
  return batchNormImpl(x, opts, false);
}

/**
 * relu(batchNorm(x, opts)) in one pass: the forward applies the ReLU in the normalisation kernel
 * and the backward folds the ReLU mask (recomputed from x) into the batch-norm gradient.
 */
export function batchNormRelu(x: Tensor, opts: BatchNormOptions): Tensor {
  return batchNormImpl(x, opts, true);
}

/**
 * maxPool2d(batchNormRelu(x, bn), pool) — a convolution block's normalise, rectify and pool. In
 * training, channels-last with C % 4 == 0 and windows that tile x (kernel == stride, no padding),
 * it runs fused (kernels-wgsl batchnorm/bn-relu-maxpool.ts): the normalised activation is never
 * written and its gradient stays pooled, so the full-size tensor is read twice a step instead of
 * crossing memory eight times. Anything else runs the two ops one after the other. Values,
 * gradients, running statistics and tie-breaking (the first maximum) are those of the two ops.
 */
export function batchNormReluMaxPool(x: Tensor, bn: BatchNormOptions, pool: Pool2dOptions): Tensor {
  const dataFormat = bn.dataFormat ?? 'NCHW';
  if ((pool.dataFormat ?? 'NCHW') !== dataFormat) throw new Error(`batchNormReluMaxPool: batch norm is ${dataFormat} but the pool is ${pool.dataFormat ?? 'NCHW'}`);
  const g = pool2dGeometry(x.shape, pool);
  const v = channelView(x.shape, dataFormat);
  if (!fusedPoolApplies(bn, v, g)) return maxPool2d(batchNormRelu(x, bn), pool);
  const rt = x.runtime;
  const cp = channelParams(x, v, bn);
  const inputs = [x, ...cp.affine];
  const f = fusedPoolForward(x, v, cp, g, isGradEnabled() && inputs.some((t) => t.requiresGrad));
  if (f.positions) {
    record(f.y, 'batchNormReluMaxPool', inputs, [x, cp.params, f.positions], (grad, [xs, ps, pos], needs) => {
      const grads: Array<Tensor | null> = inputs.map(() => null);
      const coefs = fusedPoolGrads(rt, xs!, grad, pos!, ps!, cp, v, g, needs[0]!, needs, grads, f.windows);
      if (coefs) {
        grads[0] = fusedPoolDx(xs!, grad, pos!, ps!, coefs, f);
        coefs.dispose();
      }
      return grads;
    });
    f.positions.dispose();
  }
  cp.params.dispose();
  return f.y;
}

/** Training, channels-last with C % 4 == 0, windows that tile x: the fused kernels apply. */
function fusedPoolApplies(bn: BatchNormOptions, v: ChannelView, g: Pool2dGeometry): boolean {
  return bn.training && v.layout === 'channelsLast' && v.vec && windowsTile(g);
}

/**
 * The fused forward: pooled output, and the window positions of its maxima when `savePositions`.
 * `slice`: write the pooled values into channels offset … of a wider pooled tensor (a concatenation).
 */
function fusedPoolForward(x: Tensor, v: ChannelView, cp: ChannelParams, g: Pool2dGeometry, savePositions: boolean, slice?: { y: Tensor; channels: number; offset: number }) {
  const y = slice?.y ?? allocTensor([g.n, g.oh, g.ow, g.c]);
  const positions = savePositions ? allocTensor([g.n, g.oh, g.ow, g.c]) : null;
  const cv = v.c / 4;
  const windows = {
    count: g.n * g.oh * cv, cv, w: g.w, ow: g.ow, kh: g.kh, kw: g.kw,
    wideRow: slice ? slice.channels / 4 : cv, wideCol: slice ? slice.offset / 4 : 0,
  };
  const rowWorkgroups = linearWorkgroups(windows.count, BN_WG);
  x.runtime.run(bnReluMaxPoolForwardKernel, { savePositions }, [x, cp.params, y, ...(positions ? [positions] : [])], windows, rowWorkgroups);
  return { y, positions, windows, rowWorkgroups };
}

/**
 * The fused backward's batch-norm part: the partial sums of the pooled gradient, then the affine
 * gradients (into `grads`) and, when `coefs`, the dx coefficients [3, C].
 */
function fusedPoolGrads(
  rt: Tensor['runtime'], xs: Tensor, grad: Tensor, pos: Tensor, ps: Tensor, cp: ChannelParams, v: ChannelView, g: Pool2dGeometry,
  coefs: boolean, needs: boolean[], grads: Array<Tensor | null>, windows: { wideRow: number; wideCol: number },
): Tensor | null {
  const cv = v.c / 4;
  const rows = g.n * g.oh * g.ow;
  const parts = Math.ceil(rows / BN_REDUCE_CHUNK);
  const partials = allocTensor([2, parts, v.c]);
  rt.run(bnReluMaxPoolGradSumsKernel, {}, [xs, grad, pos, ps, partials],
    { rows, parts, cv, w: g.w, ow: g.ow, kh: g.kh, kw: g.kw, wideRow: windows.wideRow, wideCol: windows.wideCol }, linearWorkgroups(cv * parts, BN_WG));
  const coefTensor = channelGrads(rt, cp, ps, { partials, parts }, v.c, v.count, true, coefs, needs, grads);
  partials.dispose();
  return coefTensor;
}

/** The fused backward's dx (the gradient of the batch norm's input x) from fusedPoolGrads' coefficients. */
function fusedPoolDx(
  x: Tensor, grad: Tensor, pos: Tensor, ps: Tensor, coefs: Tensor, f: { windows: Record<string, number>; rowWorkgroups: [number, number, number] },
): Tensor {
  const dx = allocTensor(x.shape);
  x.runtime.run(bnReluMaxPoolDxKernel, {}, [x, grad, pos, ps, coefs, dx], f.windows, f.rowWorkgroups);
  return dx;
}

/**
 * maxPool2d(batchNormRelu(conv2d(x, w, conv), bn), pool) for a convolution without bias — a
 * network's first block (SqueezeNet's conv1 → pool1). Where batchNormReluMaxPool runs fused and the
 * convolution's filter gradient takes the small-patch kernel (conv2d's 'filterPatch' path: NHWC,
 * C·KH·KW ≤ 16, e.g. 2×2 over 3 colour channels), that kernel computes the convolution's output
 * gradient itself from the pooled gradient, so the largest gradient of the network (32×32×96 per
 * image) is never written and read back. Anything else runs the ops one after the other; values,
 * gradients and running statistics are theirs.
 */
export function conv2dBatchNormReluMaxPool(x: Tensor, w: Tensor, conv: Conv2dOptions, bn: BatchNormOptions, pool: Pool2dOptions): Tensor {
  const dataFormat = bn.dataFormat ?? 'NCHW';
  for (const [what, f] of [['convolution', conv.dataFormat], ['pool', pool.dataFormat]] as const) {
    if ((f ?? 'NCHW') !== dataFormat) throw new Error(`conv2dBatchNormReluMaxPool: batch norm is ${dataFormat} but the ${what} is ${f ?? 'NCHW'}`);
  }
  const g = conv2dGeometry(x.shape, w.shape, conv);
  const tuning = conv.tuning ?? convTuningFor(x.runtime.description);
  const yShape = conv2dOutputShape(g);
  const pg = pool2dGeometry(yShape, pool);
  const v = channelView(yShape, dataFormat);
  if (conv.bias || !fusedPoolApplies(bn, v, pg) || planBackwardFilter(g, tuning).algorithm !== 'filterPatch') return batchNormReluMaxPool(conv2d(x, w, conv), bn, pool);
  const rt = x.runtime;
  // The convolution sums its output's statistics where its path can.
  const { y, statistics } = conv2dForwardWith(x, w, null, g, tuning, { statisticsShift: bn.runningMean });
  const cp = channelParams(y, v, { ...bn, statistics }, 2);
  statistics?.partials.dispose();
  const inputs = [x, w, ...cp.affine];
  const f = fusedPoolForward(y, v, cp, pg, isGradEnabled() && inputs.some((t) => t.requiresGrad));
  if (f.positions) {
    record(f.y, 'conv2dBatchNormReluMaxPool', inputs, [x, w, y, cp.params, f.positions], (grad, [xs, ws, ys, ps, pos], needs) => {
      const grads: Array<Tensor | null> = inputs.map(() => null);
      const coefs = fusedPoolGrads(rt, ys!, grad, pos!, ps!, cp, v, pg, needs[0]! || needs[1]!, needs, grads, f.windows);
      if (coefs) {
        if (needs[1]) {
          grads[1] = conv2dFilterPatch(xs!, {
            kind: 'bnReluMaxPool', y: ys!, grad, positions: pos!, params: ps!, coefs, windowH: pg.kh, windowW: pg.kw,
          }, g, tuning.tiles);
        }
        if (needs[0]) {
          const dy = fusedPoolDx(ys!, grad, pos!, ps!, coefs, f);
          grads[0] = conv2dBackwardData(dy, ws!, g, tuning);
          dy.dispose();
        }
        coefs.dispose();
      }
      return grads;
    });
    f.positions.dispose();
  }
  cp.params.dispose();
  y.dispose();
  return f.y;
}

import { bnApplyChunk, bnApplyKernel, bnDxKernel, dxReadsX, linearWorkgroups, BN_WG, type BnDxParams } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import type { ChannelStatistics } from '../conv2d/common.js';
import {
  affineGradOutputs, affineGradsNeeded, channelGrads, channelParams, channelView, derivedApplyInvocations, elementwiseGeometry, partialSums, type WideView,
} from './channel.js';
import { planChannelGrads } from './plan.js';
import { onePassBackward, onePassGeometry } from './backward.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

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
  dataFormat?: DataFormat;
  /**
   * Training: the statistics of x as its producer summed them (conv2dWithStatistics, shifted by
   * this batch norm's runningMean), used instead of a pass over x. Ignored in eval.
   */
  statistics?: ChannelStatistics | null;
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

function batchNormForward(x: Tensor, opts: BatchNormOptions, relu: boolean, y: Tensor, slice?: WideView): BnForward {
  const compact = channelView(x.shape, opts.dataFormat ?? 'NCHW');
  const wide = slice ?? { channels: compact.c, offset: 0 };
  // vec4 access must line up in the wide tensor too (channels-last: its rows and our offset).
  const v = compact.layout === 'NHWC' && (wide.channels % 4 !== 0 || wide.offset % 4 !== 0) ? { ...compact, vec: false } : compact;
  const rt = x.runtime;
  const training = opts.training;
  // The apply derives the parameter table itself (channel.ts `derived`), from partial sums with
  // invocations long enough that adding them stays cheap (bnApplyChunk).
  const cp = channelParams(x, v, opts, 1, 'apply');
  const params = cp.params;

  const ew = elementwiseGeometry(v, x.size, wide);
  const d = cp.derived;
  const chunk = d?.sums ? bnApplyChunk(d.uniforms.parts!) : null;
  const derive = !d ? {} : d.sums ? { fromSums: d.sums } : { fromRunning: d.flags };
  rt.run(bnApplyKernel, { layout: v.layout, vec: v.vec, relu, ...derive }, [x, ...(d ? d.tensors : []), params, y],
    { ...ew.uniforms, ...(d ? d.uniforms : {}), ...(chunk ? { chunk } : {}) }, linearWorkgroups(chunk ? derivedApplyInvocations(v, chunk) : ew.invocations, BN_WG));
  d?.temporary?.dispose();

  const inputs = [x, ...cp.affine];
  const backward = (g: Tensor, xs: Tensor, ps: Tensor, needs: boolean[]): Array<Tensor | null> => {
    const needX = needs[0]!;
    const { weightGrad, biasGrad } = affineGradsNeeded(cp, needs);
    const grads: Array<Tensor | null> = inputs.map(() => null);
    const mode = relu ? 'gradRelu' : 'grad';
    const dxKernel: BnDxParams = { layout: v.layout, vec: v.vec, relu, training };
    const dxInto = (dx: Tensor, bindings: Tensor[], kernel: BnDxParams, uniforms: Record<string, number>) =>
      rt.run(bnDxKernel, kernel, [g, ...(dxReadsX(kernel) ? [xs] : []), ps, ...bindings, dx], { ...ew.uniforms, ...uniforms }, linearWorkgroups(ew.invocations, BN_WG));
    const path = planChannelGrads(training, needX, onePassGeometry(v));
    if (path === 'onePass') {
      const affine = affineGradOutputs(cp, v.c, needs, grads);
      grads[0] = allocTensor(xs.shape);
      onePassBackward(v, relu, g, xs, ps, affine, grads[0], wide);
      return grads;
    }
    if (path === 'inDx') {
      // One pass of partial sums, then dx, deriving the channel gradients itself.
      const sums = partialSums(v, mode, xs, g, ps, wide);
      const affine = affineGradOutputs(cp, v.c, needs, grads);
      grads[0] = allocTensor(xs.shape);
      dxInto(grads[0], [sums.partials, ...affine.tensors], { ...dxKernel, sums: affine.flags }, { parts: sums.parts, channelSize: v.count });
      sums.partials.dispose();
      return grads;
    }
    // Training dx needs the batch sums too; eval dx is just scale·g'.
    const coefs = training && needX;
    let coefTensor: Tensor | null = null;
    if (coefs || weightGrad || biasGrad) {
      const sums = partialSums(v, mode, xs, g, ps, wide);
      coefTensor = channelGrads(rt, cp, ps, sums, v.c, v.count, training, coefs, needs, grads);
      sums.partials.dispose();
    }
    if (needX) {
      grads[0] = allocTensor(xs.shape);
      dxInto(grads[0], coefTensor ? [coefTensor] : [], dxKernel, {});
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
export function concatLayout(op: string, xs: readonly Tensor[], opts: readonly BatchNormOptions[]) {
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
export function branchScopes(rt: Tensor['runtime'], scopes: readonly string[]) {
  return <T>(i: number, fn: () => T): T => (scopes[i] ? rt.scope(scopes[i]!, fn) : fn());
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

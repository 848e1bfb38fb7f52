import { bnReluMaxPoolForwardKernel, bnReluMaxPoolGradSumsKernel, bnReluMaxPoolDxKernel, linearWorkgroups, BN_WG, BN_GRAD_PARTS } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { isGradEnabled, record } from '../../autograd.js';
import { maxPool2d, pool2dGeometry, type Pool2dGeometry, type Pool2dOptions } from '../pool/pool.js';
import { conv2d, conv2dWithStatistics, type Conv2dOptions } from '../conv2d/conv2d.js';
import { conv2dGeometry, conv2dOutputShape } from '../conv2d/geometry.js';
import { convTuningFor, planBackwardFilter } from '../conv2d/plan.js';
import { conv2dBackwardData, conv2dForwardWith } from '../conv2d/passes.js';
import { conv2dFilterPatch } from '../conv2d/filter.js';
import { batchNormRelu, batchNormReluConcat, branchScopes, concatLayout, type BatchNormOptions } from './batchnorm.js';
import { affineGradOutputs, channelGrads, channelParams, channelView, reduceChunks, type ChannelParams, type ChannelView } from './channel.js';
import { planBnReluMaxPool, planChannelGrads, planConvBnReluMaxPool, planPoolDerivesTable } from './plan.js';
import { onePassGeometry, onePassPoolBackward } from './backward.js';

// Batch norm + ReLU + max-pool in fused kernels (kernels-wgsl batchnorm/bn-relu-maxpool.ts), alone,
// over a fire module's concatenation, and after a network's first convolution.

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
  const fused = (pool.dataFormat ?? 'NCHW') === dataFormat && xs.every((_, i) => planBnReluMaxPool(opts[i]!, views[i]!, geometries[i]!) === 'fused');
  if (!fused) return maxPool2d(batchNormReluConcat(xs, opts, scopes), pool);
  const rt = xs[0]!.runtime;
  const inScope = branchScopes(rt, scopes);
  const g0 = geometries[0]!;
  const y = allocTensor([g0.n, g0.oh, g0.ow, total]);
  const savePositions = isGradEnabled() && (xs.some((t) => t.requiresGrad) || opts.some((o) => !!(o.weight?.requiresGrad || o.bias?.requiresGrad)));
  let offset = 0;
  const branches = xs.map((x, i) => inScope(i, () => {
    const cp = channelParams(x, views[i]!, opts[i]!, 1, derivesTable(opts[i]!, savePositions));
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
        return fusedPoolBackward(xs3, grad, pos, ps, b.cp, views[i]!, geometries[i]!, branchNeeds, b.f);
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
  if (planBnReluMaxPool(bn, v, g) !== 'fused') return maxPool2d(batchNormRelu(x, bn), pool);
  const savePositions = isGradEnabled() && [x, bn.weight, bn.bias].some((t) => t?.requiresGrad);
  const cp = channelParams(x, v, bn, 1, derivesTable(bn, savePositions));
  const inputs = [x, ...cp.affine];
  const f = fusedPoolForward(x, v, cp, g, savePositions);
  if (f.positions) {
    record(f.y, 'batchNormReluMaxPool', inputs, [x, cp.params, f.positions], (grad, [xs, ps, pos], needs) =>
      fusedPoolBackward(xs!, grad, pos!, ps!, cp, v, g, needs, f));
    f.positions.dispose();
  }
  cp.params.dispose();
  return f.y;
}

/** Whether the fused forward derives the table itself (channelParams' `inApply`). */
const derivesTable = (bn: BatchNormOptions, savePositions: boolean) => (planPoolDerivesTable(!!bn.weight, !!bn.bias, savePositions) ? 'pool' as const : null);

/**
 * The fused forward: pooled output, and the window positions of its maxima when `savePositions`.
 * `slice`: write the pooled values into channels offset … of a wider pooled tensor (a concatenation).
 * Where `cp` is `derived`, the kernel derives the table from partial sums and writes it.
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
  const d = cp.derived?.sums ? cp.derived : null;
  x.runtime.run(bnReluMaxPoolForwardKernel, { savePositions, ...(d ? { fromSums: d.sums! } : {}) },
    [x, ...(d ? d.tensors : []), cp.params, y, ...(positions ? [positions] : [])], { ...windows, ...(d ? d.uniforms : {}) }, rowWorkgroups);
  d?.temporary?.dispose();
  return { y, positions, windows, rowWorkgroups };
}

/**
 * The fused backward of batchNormReluMaxPool: one dispatch (planChannelGrads 'onePass'), or the
 * partial sums of the pooled gradient then dx deriving the channel gradients itself ('inDx'), else
 * bn_channel_grads alone for the affine gradients.
 */
function fusedPoolBackward(
  xs: Tensor, grad: Tensor, pos: Tensor, ps: Tensor, cp: ChannelParams, v: ChannelView, g: Pool2dGeometry, needs: boolean[],
  f: { windows: Record<string, number> & { wideRow: number; wideCol: number }; rowWorkgroups: [number, number, number] },
): Array<Tensor | null> {
  const grads: Array<Tensor | null> = [xs, ...cp.affine].map(() => null);
  const path = planChannelGrads(true, needs[0]!, onePassGeometry(v, g.n * g.oh * g.ow));
  if (path === 'onePass') {
    const affine = affineGradOutputs(cp, v.c, needs, grads);
    grads[0] = allocTensor(xs.shape);
    onePassPoolBackward(v, g, grad, xs, pos, ps, affine, grads[0], f.windows);
    return grads;
  }
  if (path === 'inDx') {
    const sums = fusedPoolGradSums(xs, grad, pos, ps, v, g, f.windows);
    const affine = affineGradOutputs(cp, v.c, needs, grads);
    grads[0] = allocTensor(xs.shape);
    xs.runtime.run(bnReluMaxPoolDxKernel, { sums: affine.flags }, [xs, grad, pos, ps, sums.partials, ...affine.tensors, grads[0]],
      { ...f.windows, parts: sums.parts, channelSize: v.count }, f.rowWorkgroups);
    sums.partials.dispose();
    return grads;
  }
  fusedPoolGrads(xs, grad, pos, ps, cp, v, g, false, needs, grads, f.windows)?.dispose();
  return grads;
}

/** Partial sums [2, parts, C] of g' and g'·(x − mean) over the pooled gradient's windows. */
function fusedPoolGradSums(xs: Tensor, grad: Tensor, pos: Tensor, ps: Tensor, v: ChannelView, g: Pool2dGeometry, windows: { wideRow: number; wideCol: number }) {
  const cv = v.c / 4;
  const rows = g.n * g.oh * g.ow;
  const { chunk, parts } = reduceChunks(rows, BN_GRAD_PARTS);
  const partials = allocTensor([2, parts, v.c]);
  xs.runtime.run(bnReluMaxPoolGradSumsKernel, {}, [xs, grad, pos, ps, partials],
    { rows, parts, chunk, cv, w: g.w, ow: g.ow, kh: g.kh, kw: g.kw, wideRow: windows.wideRow, wideCol: windows.wideCol }, linearWorkgroups(cv * parts, BN_WG));
  return { partials, parts };
}

/**
 * The fused backward's batch-norm part through bn_channel_grads: the affine gradients (into
 * `grads`) and, when `coefs`, the dx coefficients [3, C].
 */
function fusedPoolGrads(
  xs: Tensor, grad: Tensor, pos: Tensor, ps: Tensor, cp: ChannelParams, v: ChannelView, g: Pool2dGeometry,
  coefs: boolean, needs: boolean[], grads: Array<Tensor | null>, windows: { wideRow: number; wideCol: number },
): Tensor | null {
  const sums = fusedPoolGradSums(xs, grad, pos, ps, v, g, windows);
  const coefTensor = channelGrads(xs.runtime, cp, ps, sums, v.c, v.count, true, coefs, needs, grads);
  sums.partials.dispose();
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
  const path = planConvBnReluMaxPool(!!conv.bias, planBnReluMaxPool(bn, v, pg), planBackwardFilter(g, tuning));
  if (path !== 'fusedWithFilterPatch') {
    // In training the convolution sums its output's statistics where its path can.
    const { y, statistics } = bn.training ? conv2dWithStatistics(x, w, conv, bn.runningMean) : { y: conv2d(x, w, conv), statistics: null };
    const out = batchNormReluMaxPool(y, { ...bn, statistics }, pool);
    statistics?.partials.dispose();
    return out;
  }
  const rt = x.runtime;
  // The convolution sums its output's statistics where its path can.
  const { y, statistics } = conv2dForwardWith(x, w, null, g, tuning, { statisticsShift: bn.runningMean });
  const savePositions = isGradEnabled() && [x, w, bn.weight, bn.bias].some((t) => t?.requiresGrad);
  const cp = channelParams(y, v, { ...bn, statistics }, 2, derivesTable(bn, savePositions));
  const inputs = [x, w, ...cp.affine];
  const f = fusedPoolForward(y, v, cp, pg, savePositions);
  statistics?.partials.dispose();
  if (f.positions) {
    record(f.y, 'conv2dBatchNormReluMaxPool', inputs, [x, w, y, cp.params, f.positions], (grad, [xs, ws, ys, ps, pos], needs) => {
      const grads: Array<Tensor | null> = inputs.map(() => null);
      const coefs = fusedPoolGrads(ys!, grad, pos!, ps!, cp, v, pg, needs[0]! || needs[1]!, needs, grads, f.windows);
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


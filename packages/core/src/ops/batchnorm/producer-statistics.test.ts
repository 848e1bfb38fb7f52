import assert from 'node:assert/strict';
import type { DataFormat } from '@squeeze/kernels-wgsl';
import { batchNorm, batchNormRelu, batchNormReluConcat, batchNormReluMaxPool, type BatchNormOptions } from './index.js';
import { batchNormRef, batchNormTrainingGradRef } from './reference.js';
import { conv2dWithStatistics, type Conv2dOptions } from '../conv2d/conv2d.js';
import { conv2dGeometry } from '../conv2d/geometry.js';
import type { ConvTuning } from '../conv2d/plan.js';
import { conv2dForwardRef } from '../conv2d/reference.js';
import { TEST_TILES, TEST_TUNING, tuned } from '../conv2d/testing/cases.js';
import { pool2dRef } from '../pool/reference.js';
import { tensor } from '../creation/creation.js';
import { getRuntime } from '../../runtime/global.js';
import { expectClose, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';
import { f32, toLayout } from './testing/cases.js';

// A training batch norm given its input's statistics by the producing convolution
// (conv2dWithStatistics) runs one kernel: the apply adds the producer's partial sums into the batch
// statistics itself, updates the running ones and writes the [4, C] table for the backward.

const statistics = tuned({ epilogueStatistics: true });
const winogradGemm = tuned({ winogradGemm: true }, { ...TEST_TILES, winogradGemm: { m: 2, m2Below: 0 } }, statistics);

interface ConvCase { x: number[]; out: number; k: number; tuning: ConvTuning }

/**
 * conv2dWithStatistics on a case (NCHW shape `c.x` laid out in `dataFormat`), its outputs put far from
 * zero (a conv bias of 200, weights of 0.1: a mean large next to the spread) and running statistics
 * whose mean starts near the outputs'; `seed` varies everything. y's float64 reference comes along.
 */
function produce(c: ConvCase, dataFormat: DataFormat, seed: number) {
  const xShape = toLayout(c.x, dataFormat);
  const wShape = [c.out, c.x[1]!, c.k, c.k];
  const conv: Conv2dOptions = { padding: 'SAME', dataFormat, tuning: c.tuning };
  const g = conv2dGeometry(xShape, wShape, conv);
  const xv = randomValues(c.x.reduce((a, b) => a * b, 1), seed);
  const wv = randomValues(c.out * c.x[1]! * c.k * c.k, seed + 1).map((v) => 0.1 * v);
  const biasV = randomValues(c.out, seed + 2, 199, 201);
  const running = { mean: randomValues(c.out, seed + 3, 199.5, 200.5), var: randomValues(c.out, seed + 4, 0.5, 2) };
  const affine = { weight: randomValues(c.out, seed + 5, 0.5, 1.5), bias: randomValues(c.out, seed + 6, -1, 1) };
  const [x, w, convBias] = [tensor(f32(xv), xShape), tensor(f32(wv), wShape), tensor(f32(biasV))];
  const [rm, rv] = [tensor(f32(running.mean)), tensor(f32(running.var))];
  const made = conv2dWithStatistics(x, w, { ...conv, bias: convBias }, rm);
  if (!made.statistics) throw new Error('the convolution summed no statistics');
  const yShape = dataFormat === 'NHWC' ? [g.N, g.OH, g.OW, g.O] : [g.N, g.O, g.OH, g.OW];
  for (const t of [x, w, convBias]) t.dispose();
  return { ...made, statistics: made.statistics, yRef: conv2dForwardRef(xv, wv, biasV, g), yShape, rm, rv, running, affine };
}

type Produced = ReturnType<typeof produce>;

/** The batch-norm options for a produced case, with weight and bias tensors where `withWeight`/always. */
function bnOptions(p: Produced, dataFormat: DataFormat, withWeight: boolean) {
  const weight = withWeight ? tensor(f32(p.affine.weight)) : null;
  const bias = tensor(f32(p.affine.bias));
  const o = { training: true, momentum: 0.3, eps: 1e-5, dataFormat };
  const bn: BatchNormOptions = { ...o, weight, bias, runningMean: p.rm, runningVar: p.rv, statistics: p.statistics };
  const ref = { ...o, weight: withWeight ? p.affine.weight : null, bias: p.affine.bias, runningMean: p.running.mean, runningVar: p.running.var };
  return { bn, ref, affine: [weight, bias] };
}

/** Dispatches `fn` records. */
function dispatchesOf<T>(fn: () => T): { value: T; dispatches: number } {
  const rt = getRuntime();
  const before = rt.counters.dispatches;
  const value = fn();
  return { value, dispatches: rt.counters.dispatches - before };
}

// y against the reference: the outputs' mean is 200 next to a spread near 1.
const Y_TOL = { atol: 2e-3, rtol: 1e-3 };

describe('batch norm training forward: the table derived in the apply from its producer\'s statistics', function () {
  this.timeout(300_000);
  // Implicit GEMM with few partials and (672 pixels: 84 tiles of 8) more than BN_STATS_PARTS, which
  // are folded first; the Winograd-GEMM output transform.
  const cases: ConvCase[] = [
    { x: [2, 6, 5, 7], out: 8, k: 1, tuning: statistics },
    { x: [2, 3, 16, 21], out: 12, k: 1, tuning: statistics },
    { x: [2, 4, 6, 6], out: 8, k: 3, tuning: winogradGemm },
  ];

  it('batchNorm(Relu): one dispatch after the convolution, y, running statistics and dx as the float64 reference', async () => {
    for (const dataFormat of ['NCHW', 'NHWC'] as const) for (const [k, c] of cases.entries()) for (const relu of [false, true]) {
      const p = produce(c, dataFormat, 3000 + 10 * k);
      const { bn, ref, affine } = bnOptions(p, dataFormat, relu);
      const y = p.y.requireGrad();
      const label = `${relu ? 'batchNormRelu' : 'batchNorm'} after a ${c.k}×${c.k} convolution to [${p.yShape}] ${dataFormat}, ${p.statistics.parts} parts`;
      const { value: out, dispatches } = dispatchesOf(() => (relu ? batchNormRelu : batchNorm)(y, bn));
      assert.equal(dispatches, 1, `${label}: the apply alone`);
      const want = batchNormRef(p.yRef, p.yShape, { ...ref, relu });
      expectClose(await out.data(), want.y, Y_TOL, `${label}: y`);
      expectClose(await p.rm.data(), want.runningMean, { atol: 1e-4, rtol: 1e-6 }, `${label}: running mean`);
      expectClose(await p.rv.data(), want.runningVar, { atol: 1e-4, rtol: 1e-3 }, `${label}: running var`);
      // The backward reads the table the apply wrote (without the ReLU: pre-activations within
      // float32's rounding of its kink, at a mean of 200, may fall on either side and move every dx).
      if (!relu) {
        const g = randomValues(out.size, 3100 + k);
        out.backward(tensor(f32(g), out.shape));
        expectClose(await y.grad!.data(), batchNormTrainingGradRef(p.yRef, g, p.yShape, ref).dx, { atol: 2e-3, rtol: 2e-3 }, `${label}: dx`);
      }
      for (const t of [out, y, p.statistics.partials, p.rm, p.rv, ...affine]) t?.dispose();
    }
  });

  it('batchNormReluConcat: one dispatch per branch, each as the float64 reference', async () => {
    for (const dataFormat of ['NCHW', 'NHWC'] as const) {
      // More partials than BN_STATS_PARTS (longer apply invocations) in a slice of the concatenation.
      const ps = [produce(cases[1]!, dataFormat, 3200), produce({ ...cases[1]!, out: 4, k: 3 }, dataFormat, 3210)];
      const opts = ps.map((p, i) => bnOptions(p, dataFormat, i === 0));
      const { value: out, dispatches } = dispatchesOf(() => batchNormReluConcat(ps.map((p) => p.y), opts.map((o) => o.bn)));
      assert.equal(dispatches, 2, `${dataFormat}: one apply per branch`);
      const wants = ps.map((p, i) => batchNormRef(p.yRef, p.yShape, { ...opts[i]!.ref, relu: true }));
      const got = await out.data();
      // Each branch's channels of the concatenation.
      const [n, c0, c1] = [ps[0]!.yShape[0]!, 12, 4];
      const spatial = wants[0]!.y.length / (n * c0);
      wants.forEach((want, b) => {
        const [cb, offset] = [b === 0 ? c0 : c1, b === 0 ? 0 : c0];
        const mine = Float64Array.from({ length: want.y.length }, (_, i) => {
          const [image, ch, s] = dataFormat === 'NCHW'
            ? [Math.floor(i / (cb * spatial)), Math.floor(i / spatial) % cb, i % spatial]
            : [Math.floor(i / (cb * spatial)), i % cb, Math.floor(i / cb) % spatial];
          return got[dataFormat === 'NCHW' ? (image * (c0 + c1) + offset + ch) * spatial + s : (image * spatial + s) * (c0 + c1) + offset + ch]!;
        });
        expectClose(mine, want.y, Y_TOL, `${dataFormat} branch ${b}: y`);
      });
      for (const [i, p] of ps.entries()) {
        expectClose(await p.rv.data(), wants[i]!.runningVar, { atol: 1e-4, rtol: 1e-3 }, `${dataFormat} branch ${i}: running var`);
        for (const t of [p.y, p.statistics.partials, p.rm, p.rv, ...opts[i]!.affine]) t?.dispose();
      }
      out.dispose();
    }
  });

  it('batchNormReluMaxPool (NHWC): one dispatch where its bindings allow, as the float64 reference', async () => {
    const pool = { kernelSize: 2, dataFormat: 'NHWC' as const };
    // bias only, with and without a gradient; weight and bias with a gradient: bn_channel_params
    // first; more partials than BN_STATS_PARTS (576 pixels, 72 tiles): folded first.
    const cases: Array<[boolean, boolean, number[], number]> = [
      [false, true, [2, 6, 6, 8], 1], [false, false, [2, 6, 6, 8], 1], [true, true, [2, 6, 6, 8], 2], [false, true, [2, 3, 24, 12], 2],
    ];
    for (const [k, [withWeight, grad, x, expected]] of cases.entries()) {
      const p = produce({ x, out: 8, k: 1, tuning: statistics }, 'NHWC', 3300 + 10 * k);
      const { bn, ref, affine } = bnOptions(p, 'NHWC', withWeight);
      const y = grad ? p.y.requireGrad() : p.y;
      const label = `[${p.yShape}] weight ${withWeight}, gradient ${grad}`;
      const { value: out, dispatches } = dispatchesOf(() => batchNormReluMaxPool(y, bn, pool));
      assert.equal(dispatches, expected, `${label}, ${p.statistics.parts} parts: dispatches`);
      const want = batchNormRef(p.yRef, p.yShape, { ...ref, relu: true });
      expectClose(await out.data(), pool2dRef('max', want.y, p.yShape, pool), Y_TOL, `${label}: y`);
      expectClose(await p.rm.data(), want.runningMean, { atol: 1e-4, rtol: 1e-6 }, `${label}: running mean`);
      expectClose(await p.rv.data(), want.runningVar, { atol: 1e-4, rtol: 1e-3 }, `${label}: running var`);
      for (const t of [out, y, p.statistics.partials, p.rm, p.rv, ...affine] as Array<Tensor | null>) t?.dispose();
    }
  });
});

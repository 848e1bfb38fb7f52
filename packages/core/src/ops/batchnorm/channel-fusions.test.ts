import assert from 'node:assert/strict';
import type { DataFormat } from '@squeeze/kernels-wgsl';
import { batchNorm, batchNormRelu, batchNormReluMaxPool } from './index.js';
import { batchNormRef, batchNormTrainingGradRef, channelIndex } from './reference.js';
import { maxPool2d } from '../pool/pool.js';
import { tensor } from '../creation/creation.js';
import { getRuntime } from '../../runtime/global.js';
import { expectClose, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';
import { size, toLayout, f32, makeCase, caseTensors, refOptions } from './testing/cases.js';
import { planChannelGrads } from './plan.js';
import { onePassGeometry } from './backward.js';
import { channelView } from './channel.js';

/** A case's input values in `dataFormat` and its running statistics, weight (none when `noWeight`) and bias as tensors. */
function inputs(nchw: number[], dataFormat: DataFormat, seed: number, noWeight: boolean) {
  const shape = toLayout(nchw, dataFormat);
  const cs = makeCase(nchw[1]!, size(shape), seed, noWeight ? { weight: false, bias: true } : { weight: true, bias: true });
  const [rm, rv] = [tensor(f32(cs.runningMean)), tensor(f32(cs.runningVar))];
  return { shape, cs, rm, rv, w: cs.weight ? tensor(f32(cs.weight)) : null, b: tensor(f32(cs.bias!)) };
}

describe('batch norm backward with few channels: channel gradients derived in the dx kernel', function () {
  this.timeout(300_000);
  const o = (dataFormat: DataFormat) => ({ training: true, momentum: 0.1, eps: 1e-5, dataFormat });

  /** Runs op(x) → backward(g); returns the gradients and the dispatches of the backward alone. */
  async function backwardOf(op: (x: Tensor, w: Tensor, b: Tensor, rm: Tensor, rv: Tensor) => Tensor, t: ReturnType<typeof caseTensors>, seed: number) {
    const y = op(t.x, t.w, t.b, t.rm, t.rv);
    const g = tensor(f32(randomValues(y.size, seed)), y.shape);
    const rt = getRuntime();
    const before = rt.counters.dispatches;
    y.backward(g);
    const dispatches = rt.counters.dispatches - before;
    const out = { dx: await t.x.grad!.data(), dweight: await t.w.grad!.data(), dbias: await t.b.grad!.data(), g: await g.data(), dispatches };
    for (const u of [y, g, t.x, t.w, t.b, t.rm, t.rv]) u.dispose();
    return out;
  }

  // Too few channels (vectors) for the one-pass kernel's workgroups (planChannelGrads 'inDx'), with
  // enough values per channel that the backward's partial sums are capped (BN_GRAD_PARTS) in both
  // layouts, vec4 and scalar, and small ones with a single partial.
  const cases: Array<[number[], DataFormat]> = [
    [[8, 8, 24, 24], 'NHWC'], [[8, 3, 32, 32], 'NCHW'], [[4, 3, 25, 25], 'NCHW'], [[4, 3, 20, 20], 'NHWC'], [[2, 8, 3, 3], 'NHWC'], [[2, 3, 3, 3], 'NCHW'],
  ];
  for (const relu of [false, true]) {
    it(`${relu ? 'batchNormRelu' : 'batchNorm'}: dx, weight and bias gradients match the float64 backward, in two dispatches`, async () => {
      for (const [k, [nchw, dataFormat]] of cases.entries()) {
        const shape = toLayout(nchw, dataFormat);
        const cs = makeCase(nchw[1]!, size(shape), 2000 + k, { weight: true, bias: true });
        const got = await backwardOf((x, w, b, rm, rv) => (relu ? batchNormRelu : batchNorm)(x, { ...o(dataFormat), weight: w, bias: b, runningMean: rm, runningVar: rv }), caseTensors(cs, shape), 2100 + k);
        const want = batchNormTrainingGradRef(cs.x, Float64Array.from(got.g), shape, { ...refOptions(cs, o(dataFormat)), relu });
        const label = `[${shape}] ${dataFormat}`;
        expectClose(got.dx, want.dx, { atol: 1e-4, rtol: 1e-3 }, `${label} dx`);
        expectClose(got.dweight, want.dweight, { atol: 1e-3, rtol: 1e-4 }, `${label} dweight`);
        expectClose(got.dbias, want.dbias, { atol: 1e-3, rtol: 1e-4 }, `${label} dbias`);
        assert.equal(planChannelGrads(true, true, onePassGeometry(channelView(shape, dataFormat))), 'inDx', label);
        assert.equal(got.dispatches, 2, `${label}: the backward is the partial sums and dx`);
      }
    });
  }

  it('batchNormReluMaxPool: gradients equal the unfused ops, the backward in two dispatches', async () => {
    for (const [k, nchw] of [[8, 8, 32, 32], [2, 4, 6, 6]].entries()) {
      const shape = toLayout(nchw, 'NHWC');
      const cs = makeCase(nchw[1]!, size(shape), 2200 + k, { weight: true, bias: true });
      const pool = { kernelSize: 2, stride: 2, padding: 'VALID' as const, dataFormat: 'NHWC' as const };
      const run = (fused: boolean) => backwardOf((x, w, b, rm, rv) => {
        const bn = { ...o('NHWC'), weight: w, bias: b, runningMean: rm, runningVar: rv };
        return fused ? batchNormReluMaxPool(x, bn, pool) : maxPool2d(batchNormRelu(x, bn), pool);
      }, caseTensors(cs, shape), 2300 + k);
      const [got, want] = [await run(true), await run(false)];
      const label = `[${shape}]`;
      expectClose(got.dx, want.dx, { atol: 1e-5, rtol: 1e-4 }, `${label} dx`);
      expectClose(got.dweight, want.dweight, { atol: 1e-4, rtol: 1e-4 }, `${label} dweight`);
      expectClose(got.dbias, want.dbias, { atol: 1e-4, rtol: 1e-4 }, `${label} dbias`);
      assert.equal(planChannelGrads(true, true, onePassGeometry(channelView(shape, 'NHWC'))), 'inDx', label);
      assert.equal(got.dispatches, 2, `${label}: the fused backward is the window sums and dx`);
    }
  });
});

describe('batch norm eval forward: the parameter table derived in the apply kernel', function () {
  this.timeout(300_000);
  it('batchNorm(Relu) in eval is one dispatch and matches the float64 reference, the table it writes serving the backward', async () => {
    for (const [k, [nchw, dataFormat]] of ([[[2, 8, 5, 5], 'NHWC'], [[2, 6, 4, 4], 'NCHW'], [[3, 5, 3, 3], 'NCHW'], [[3, 5, 3, 3], 'NHWC']] as Array<[number[], DataFormat]>).entries()) {
      for (const relu of [false, true]) {
        const o = { training: false, momentum: 0.1, eps: 1e-3, dataFormat };
        const { shape, cs, rm, rv, w, b } = inputs(nchw, dataFormat, 2400 + k, k % 2 === 1);
        const x = tensor(f32(cs.x), shape).requireGrad();
        const rt = getRuntime();
        const before = rt.counters.dispatches;
        const y = (relu ? batchNormRelu : batchNorm)(x, { ...o, weight: w, bias: b, runningMean: rm, runningVar: rv });
        const label = `eval ${relu ? 'batchNormRelu' : 'batchNorm'} [${shape}] ${dataFormat}`;
        assert.equal(rt.counters.dispatches - before, 1, `${label}: one dispatch`);
        const want = batchNormRef(cs.x, shape, { ...refOptions(cs, o), relu });
        expectClose(await y.data(), want.y, { atol: 1e-4, rtol: 1e-4 }, label);
        // eval dx = scale · g' (g' = g where y > 0 with the ReLU), from the table the apply wrote.
        const g = randomValues(y.size, 2500 + k);
        y.backward(tensor(f32(g), shape));
        const { c, of } = channelIndex(shape, dataFormat);
        const scale = Array.from({ length: c }, (_, ch) => (cs.weight ? cs.weight[ch]! : 1) / Math.sqrt(cs.runningVar[ch]! + o.eps));
        expectClose(await x.grad!.data(), g.map((v, i) => (relu && !(want.y[i]! > 0) ? 0 : v * scale[of(i)]!)), { atol: 1e-5, rtol: 1e-4 }, `${label} dx`);
        for (const t of [x, rm, rv, w, b, y]) t?.dispose();
      }
    }
  });
});

describe('batch norm training forward: the parameter table derived in the apply kernel from its own partial sums', function () {
  this.timeout(300_000);
  // The first three have more than BN_STATS_PARTS · BN_REDUCE_CHUNK vectors per channel: their parts are capped.
  it('batchNorm(Relu) in training is the partial sums and the apply, matching the float64 reference, running statistics included', async () => {
    for (const [k, [nchw, dataFormat]] of ([[[12, 4, 32, 32], 'NCHW'], [[4, 3, 25, 25], 'NCHW'], [[8, 8, 24, 24], 'NHWC'], [[4, 6, 20, 20], 'NHWC'], [[2, 5, 3, 3], 'NCHW']] as Array<[number[], DataFormat]>).entries()) {
      for (const relu of [false, true]) {
        const o = { training: true, momentum: 0.3, eps: 1e-3, dataFormat };
        const { shape, cs, rm, rv, w, b } = inputs(nchw, dataFormat, 2600 + k, k % 2 === 1);
        const x = tensor(f32(cs.x), shape);
        const rt = getRuntime();
        const before = rt.counters.dispatches;
        const y = (relu ? batchNormRelu : batchNorm)(x, { ...o, weight: w, bias: b, runningMean: rm, runningVar: rv });
        const label = `training ${relu ? 'batchNormRelu' : 'batchNorm'} [${shape}] ${dataFormat}`;
        assert.equal(rt.counters.dispatches - before, 2, `${label}: two dispatches`);
        const want = batchNormRef(cs.x, shape, { ...refOptions(cs, o), relu });
        expectClose(await y.data(), want.y, { atol: 1e-4, rtol: 1e-4 }, label);
        expectClose(await rm.data(), want.runningMean, { atol: 1e-5, rtol: 1e-5 }, `${label} running mean`);
        expectClose(await rv.data(), want.runningVar, { atol: 1e-5, rtol: 1e-5 }, `${label} running var`);
        for (const t of [x, rm, rv, w, b, y]) t?.dispose();
      }
    }
  });
});

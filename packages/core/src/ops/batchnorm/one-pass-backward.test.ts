import assert from 'node:assert/strict';
import { BN_BACKWARD_CACHE, type DataFormat } from '@squeeze/kernels-wgsl';
import { batchNorm, batchNormRelu, batchNormReluConcat, batchNormReluMaxPool } from './index.js';
import { batchNormRef, batchNormTrainingGradRef } from './reference.js';
import { tensor } from '../creation/creation.js';
import { getRuntime } from '../../runtime/global.js';
import { expectClose, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';
import { size, toLayout, f32, makeCase, affineCombos, refOptions, type Case } from './testing/cases.js';
import { planChannelGrads } from './plan.js';
import { onePassGeometry } from './backward.js';
import { channelView } from './channel.js';

// The one-dispatch training backward (planChannelGrads 'onePass', kernels-wgsl bn-backward.ts)
// against the float64 backward.

const o = (dataFormat: DataFormat) => ({ training: true, momentum: 0.1, eps: 1e-5, dataFormat });

/** A case's tensors: x, and weight and bias where the case has them, needing gradients. */
function tensors(cs: Case, shape: number[]) {
  return {
    x: tensor(f32(cs.x), shape).requireGrad(),
    w: cs.weight ? tensor(f32(cs.weight)).requireGrad() : null,
    b: cs.bias ? tensor(f32(cs.bias)).requireGrad() : null,
    rm: tensor(f32(cs.runningMean)), rv: tensor(f32(cs.runningVar)),
  };
}

/** y = op(…), then y.backward(g) with g random: the gradients, g, and the dispatches of the backward alone. */
async function backwardOf(t: ReturnType<typeof tensors>, op: () => Tensor, seed: number) {
  const y = op();
  const g = tensor(f32(randomValues(y.size, seed)), y.shape);
  const rt = getRuntime();
  const before = rt.counters.dispatches;
  y.backward(g);
  const dispatches = rt.counters.dispatches - before;
  const out = {
    dx: await t.x.grad!.data(), dweight: t.w ? await t.w.grad!.data() : null, dbias: t.b ? await t.b.grad!.data() : null,
    g: Float64Array.from(await g.data()), dispatches,
  };
  for (const u of [y, g, t.x, t.w, t.b, t.rm, t.rv]) u?.dispose();
  return out;
}

function expectGrads(got: Awaited<ReturnType<typeof backwardOf>>, want: ReturnType<typeof batchNormTrainingGradRef>, label: string) {
  expectClose(got.dx, want.dx, { atol: 1e-4, rtol: 1e-3 }, `${label} dx`);
  if (got.dweight) expectClose(got.dweight, want.dweight, { atol: 1e-3, rtol: 1e-4 }, `${label} dweight`);
  if (got.dbias) expectClose(got.dbias, want.dbias, { atol: 1e-3, rtol: 1e-4 }, `${label} dbias`);
}

describe('batch norm training backward in one dispatch', function () {
  this.timeout(300_000);

  // Both layouts, vec4 and scalar; lanes holding their vectors in registers and not; workgroups of
  // one channel (vector) and of several, the last only partly filled.
  const cases: Array<[number[], DataFormat]> = [
    [[2, 6, 4, 4], 'NCHW'], [[8, 4, 32, 32], 'NCHW'], [[3, 37, 3, 3], 'NCHW'], [[4, 5, 25, 25], 'NCHW'], [[4, 40, 4, 4], 'NCHW'],
    [[2, 136, 3, 3], 'NHWC'], [[8, 16, 24, 24], 'NHWC'], [[2, 37, 3, 3], 'NHWC'], [[4, 6, 20, 20], 'NHWC'], [[3, 16, 2, 2], 'NHWC'],
  ];

  it('the cases take the one-pass kernel in each of its variants', () => {
    for (const dataFormat of ['NCHW', 'NHWC'] as const) {
      const views = cases.filter(([, f]) => f === dataFormat).map(([nchw]) => channelView(toLayout(nchw, dataFormat), dataFormat));
      for (const v of views) assert.equal(planChannelGrads(true, true, onePassGeometry(v)), 'onePass', `[${v.c}] ${dataFormat}`);
      const geos = views.map((v) => ({ v, geo: onePassGeometry(v) }));
      for (const [what, has] of [
        ['vec4', ({ v }: typeof geos[number]) => v.vec], ['scalar', ({ v }: typeof geos[number]) => !v.vec],
        ['cached', ({ geo }: typeof geos[number]) => geo.perLane <= BN_BACKWARD_CACHE], ['uncached', ({ geo }: typeof geos[number]) => geo.perLane > BN_BACKWARD_CACHE],
        ['several channels per workgroup', ({ geo }: typeof geos[number]) => geo.cols > 1],
        ['a partly filled workgroup', ({ v, geo }: typeof geos[number]) => (v.layout === 'NHWC' && v.vec ? v.c / 4 : v.c) % geo.cols !== 0],
      ] as const) assert.ok(geos.some(has), `${dataFormat}: a case that is ${what}`);
    }
    // A lane's run of 2048 rows (96 channels, 32 · 32 · 32 rows): the partial-sum pass spreads it instead.
    assert.equal(planChannelGrads(true, true, onePassGeometry(channelView([32, 32, 32, 96], 'NHWC'))), 'inDx');
  });

  for (const relu of [false, true]) {
    it(`${relu ? 'batchNormRelu' : 'batchNorm'}: dx, weight and bias gradients match the float64 backward, in one dispatch`, async () => {
      for (const [k, [nchw, dataFormat]] of cases.entries()) {
        const shape = toLayout(nchw, dataFormat);
        const cs = makeCase(nchw[1]!, size(shape), 3000 + k, affineCombos[k % affineCombos.length]!);
        const t = tensors(cs, shape);
        const got = await backwardOf(t, () => (relu ? batchNormRelu : batchNorm)(t.x, { ...o(dataFormat), weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv }), 3100 + k);
        const label = `[${shape}] ${dataFormat} weight ${!!cs.weight} bias ${!!cs.bias}`;
        expectGrads(got, batchNormTrainingGradRef(cs.x, got.g, shape, { ...refOptions(cs, o(dataFormat)), relu }), label);
        assert.equal(got.dispatches, 1, `${label}: one dispatch`);
      }
    });
  }

  it('batchNormReluConcat: each branch reads its channel slice of the gradient, one dispatch per branch', async () => {
    for (const [k, [batch, channels, hw, dataFormat]] of ([[2, [16, 24], [4, 4], 'NHWC'], [2, [5, 7], [3, 3], 'NHWC'], [2, [16, 8], [4, 4], 'NCHW'], [3, [6, 5], [3, 5], 'NCHW']] as Array<[number, number[], number[], DataFormat]>).entries()) {
      const nchws = channels.map((c) => [batch, c, ...hw]);
      const shapes = nchws.map((s) => toLayout(s, dataFormat));
      const css = nchws.map((s, i) => makeCase(s[1]!, size(shapes[i]!), 3200 + 10 * k + i, affineCombos[(k + i) % affineCombos.length]!));
      const ts = css.map((cs, i) => tensors(cs, shapes[i]!));
      const y = batchNormReluConcat(ts.map((t) => t.x), ts.map((t) => ({ ...o(dataFormat), weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv })));
      const g = randomValues(y.size, 3300 + k);
      const rt = getRuntime();
      const before = rt.counters.dispatches;
      y.backward(tensor(f32(g), y.shape));
      assert.equal(rt.counters.dispatches - before, 2, `[${y.shape}] ${dataFormat}: one dispatch per branch`);
      const total = channels.reduce((a, b) => a + b, 0);
      let offset = 0;
      for (const [i, cs] of css.entries()) {
        // The branch's slice of g: channels offset … offset + C of the concatenation.
        const [n, c, s] = [batch, channels[i]!, hw[0]! * hw[1]!];
        const gi = new Float64Array(n * c * s);
        for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < s; p++) {
          gi[dataFormat === 'NCHW' ? (b * c + ch) * s + p : (b * s + p) * c + ch] = g[dataFormat === 'NCHW' ? (b * total + offset + ch) * s + p : (b * s + p) * total + offset + ch]!;
        }
        offset += c;
        const t = ts[i]!;
        const got = { dx: await t.x.grad!.data(), dweight: t.w ? await t.w.grad!.data() : null, dbias: t.b ? await t.b.grad!.data() : null, g: gi, dispatches: 0 };
        expectGrads(got, batchNormTrainingGradRef(cs.x, gi, shapes[i]!, { ...refOptions(cs, o(dataFormat)), relu: true }), `[${shapes[i]}] ${dataFormat} branch ${i}`);
        for (const u of [t.x, t.w, t.b, t.rm, t.rv]) u?.dispose();
      }
      y.dispose();
    }
  });

  it('batchNormReluMaxPool: gradients match the float64 backward through the first maximum of each window, in one dispatch', async () => {
    for (const [k, [nchw, kernel]] of ([[[2, 16, 8, 8], [2, 2]], [[2, 136, 4, 4], [2, 2]], [[2, 16, 4, 6], [2, 3]]] as Array<[number[], [number, number]]>).entries()) {
      const shape = toLayout(nchw, 'NHWC');
      const [n, h, w, c] = shape as [number, number, number, number];
      const v = channelView(shape, 'NHWC');
      const [oh, ow] = [h / kernel[0], w / kernel[1]];
      assert.equal(planChannelGrads(true, true, onePassGeometry(v, n * oh * ow)), 'onePass', `[${shape}]`);
      const cs = makeCase(c, size(shape), 3400 + k, affineCombos[k % affineCombos.length]!);
      const t = tensors(cs, shape);
      const pool = { kernelSize: kernel, stride: kernel, padding: 'VALID' as const, dataFormat: 'NHWC' as const };
      const got = await backwardOf(t, () => batchNormReluMaxPool(t.x, { ...o('NHWC'), weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv }, pool), 3500 + k);
      // The pooled gradient goes to each window's first maximum of relu(batchNorm(x)), then through the batch norm.
      const y = batchNormRef(cs.x, shape, { ...refOptions(cs, o('NHWC')), relu: true }).y;
      const gFull = new Float64Array(y.length);
      for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++) {
        let best = -1;
        for (let ky = 0; ky < kernel[0]; ky++) for (let kx = 0; kx < kernel[1]; kx++) {
          const i = ((b * h + oy * kernel[0] + ky) * w + ox * kernel[1] + kx) * c + ch;
          if (best < 0 || y[i]! > y[best]!) best = i;
        }
        gFull[best] = got.g[((b * oh + oy) * ow + ox) * c + ch]!;
      }
      const label = `[${shape}] pool ${kernel}`;
      expectGrads(got, batchNormTrainingGradRef(cs.x, gFull, shape, { ...refOptions(cs, o('NHWC')), relu: true }), label);
      assert.equal(got.dispatches, 1, `${label}: one dispatch`);
    }
  });
});

import assert from 'node:assert/strict';
import { conv2d, conv2dWithStatistics, type Conv2dOptions } from './conv2d.js';
import { conv2dGeometry } from './geometry.js';
import { convTuningFor, type ConvTuning } from './plan.js';
import { conv2dForwardRef, nchwToNhwc } from './reference.js';
import { checkPass, layoutShape, operands, TEST_TILES, TEST_TUNING, TOL, tuned, WINOGRAD_TILES } from './testing/cases.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { getRuntime } from '../../runtime/global.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

describe('conv2d', () => {
  it('forward without bias matches the reference', async () => {
    const g = conv2dGeometry([2, 5, 5, 6], [7, 6, 3, 3], { padding: 'SAME', dataFormat: 'NHWC' });
    const xv = randomValues(2 * 5 * 5 * 6, 1);
    const wv = randomValues(7 * 6 * 9, 2);
    const got = await gpuValues(() => conv2d(tensor(Float32Array.from(xv), [2, 5, 5, 6]), tensor(Float32Array.from(wv), [7, 6, 3, 3]),
      { padding: 'SAME', dataFormat: 'NHWC', tuning: TEST_TUNING }));
    expectClose(got, conv2dForwardRef(xv, wv, null, g), TOL, 'conv2d NHWC without bias');
  });

  for (const adapter of ['software', 'hardware'] as const) {
    it(`the ${adapter} adapter's tuning matches the reference in every pass`, async function () {
      // The shipped tiles (the software GEMM tile compiles slowly on lavapipe).
      this.timeout(600_000);
      const shipped = convTuningFor({ software: adapter === 'software' });
      // On a software adapter the hardware tuning runs with the fused-Winograd test's 8-channel tile
      // (the same generator, one channel per step and a workgroup of 8, not 2 and 32): the shipped
      // Winograd kernels take about a minute each to compile on lavapipe, so they are checked on a GPU
      // adapter only.
      const tu = adapter === 'hardware' && getRuntime().description.software ? tuned({}, { winograd: WINOGRAD_TILES[1]! }, shipped) : shipped;
      // A 3×3 convolution, and a conv1-like one (3 → 96 channels, 2×2: the software tuning's 4 × 96
      // tile for short reductions, backward-data through GEMM + col2im).
      const shapes = [{ x: [3, 12, 9, 10], out: 20, k: [3, 3] }, { x: [2, 3, 9, 10], out: 96, k: [2, 2] }] as const;
      for (const format of ['NCHW', 'NHWC'] as const) for (const [s, c] of shapes.entries()) {
        const o = operands({ ...c, opts: { padding: 'SAME' } }, format, 20 + s);
        for (const pass of ['forward', 'backwardData', 'backwardFilter'] as const) await checkPass(pass, o, tu, null, adapter);
        const other = tuned({ nchwFilterViaNhwc: !tu.algorithms.nchwFilterViaNhwc }, {}, tu);
        await checkPass('backwardFilter', o, other, null, `${adapter}, the other NCHW filter path`);
      }
    });
  }

  const gradCases: Array<{ x: number[]; w: number[]; opts: Conv2dOptions }> = [
    { x: [2, 2, 4, 4], w: [3, 2, 3, 3], opts: { padding: 'SAME' } },
    { x: [1, 5, 4, 3], w: [4, 3, 2, 2], opts: { padding: 'SAME', stride: 2, dataFormat: 'NHWC' } },
    { x: [2, 4, 3, 3], w: [5, 4, 1, 1], opts: { dataFormat: 'NCHW' } },
    { x: [1, 3, 3, 4], w: [4, 4, 1, 1], opts: { dataFormat: 'NHWC' } },
  ];
  for (const c of gradCases) {
    it(`gradients of x, w and bias match finite differences: x [${c.x}] w [${c.w}] ${JSON.stringify(c.opts)}`, async () => {
      const g = conv2dGeometry(c.x, c.w, c.opts);
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      await gradCheck({
        inputs: [
          { shape: c.x, values: randomValues(n(c.x), 5) },
          { shape: c.w, values: randomValues(n(c.w), 6) },
          { shape: [c.w[0]!], values: randomValues(c.w[0]!, 7) },
        ],
        gpu: ([x, w, b]) => conv2d(x!, w!, { ...c.opts, bias: b!, tuning: TEST_TUNING }),
        ref: ([x, w, b]) => conv2dForwardRef(x!, w!, b!, g),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `conv2d x [${c.x}] w [${c.w}]`,
      });
    });
  }

  it('skips backward-data when the input needs no gradient', async () => {
    const rt = getRuntime();
    const dispatchesOfBackward = async (xNeedsGrad: boolean): Promise<number> => {
      const x = tensor(Float32Array.from(randomValues(2 * 3 * 6 * 6, 8)), [2, 3, 6, 6]).requireGrad(xNeedsGrad);
      const w = tensor(Float32Array.from(randomValues(4 * 3 * 9, 9)), [4, 3, 3, 3]).requireGrad();
      const y = conv2d(x, w, { padding: 'SAME', tuning: TEST_TUNING });
      const dy = tensor(Float32Array.from(randomValues(y.size, 10)), y.shape);
      const before = rt.counters.dispatches;
      y.backward(dy);
      const count = rt.counters.dispatches - before;
      assert.ok(w.grad && (x.grad !== null) === xNeedsGrad, 'the gradients asked for');
      await w.grad!.data();
      x.dispose(); w.dispose(); y.dispose(); dy.dispose();
      return count;
    };
    const withDx = await dispatchesOfBackward(true);
    const withoutDx = await dispatchesOfBackward(false);
    // backward-data is two dispatches: the weight reorder and the GEMM.
    assert.equal(withDx - withoutDx, 2, `backward dispatches: ${withDx} with dx, ${withoutDx} without`);
  });

  it('forwards sum their output\'s batch-norm statistics where the plan says (implicit GEMM and Winograd-GEMM, both layouts)', async function () {
    this.timeout(300_000);
    const tu = tuned({ epilogueStatistics: true });
    const sharedWeights = tuned({}, { gemm: { ...TEST_TILES.gemm, unroll: { NCHW: 2, NHWC: 2 }, subgroupWeights: true } }, tu);
    const winogradGemm = (m: 2 | 4) => tuned({ winogradGemm: true }, { winogradGemm: { m, m2Below: 0 } }, tu);
    const size = getRuntime().description.subgroupSize;
    // [N, C, H, W], out, kernel, options, tuning, whether statistics come back.
    const statCases: Array<[number[], number, number, Conv2dOptions, ConvTuning, boolean]> = [
      [[2, 6, 5, 7], 12, 1, {}, tu, true], // pointwise, 70 pixels: a ragged last tile of 8; 12 channels: a ragged tile
      [[2, 3, 9, 10], 8, 2, { padding: 'SAME' }, tu, true], // conv1-like
      [[1, 5, 7, 6], 8, 3, { padding: 'SAME' }, winogradGemm(4), true], // tiles cut by the edges
      [[2, 4, 5, 5], 4, 3, { padding: 'SAME' }, winogradGemm(2), true],
      [[2, 4, 5, 5], 6, 1, {}, tu, false], // O % 4 != 0
      [[2, 4, 5, 5], 8, 1, {}, TEST_TUNING, false], // not asked for by the tuning
      [[2, 4, 5, 5], 8, 3, { padding: 'SAME' }, tuned({ winograd: true }, { winograd: WINOGRAD_TILES[0]! }, tu), false], // the fused Winograd kernel
      // shared weights: summed per subgroup (where the adapter has one); 180 pixels = 23 tiles of 8
      // in two workgroups of 16: the third subgroup partly live, the fourth not at all
      [[2, 6, 9, 10], 16, 1, {}, sharedWeights, true],
      [[2, 6, 9, 10], 12, 1, {}, tuned({}, { gemm: { ...sharedWeights.tiles.gemm, weightsAsGiven: true } }, sharedWeights), true], // w read as given, a ragged channel tile
      [[2, 3, 9, 10], 8, 2, { padding: 'SAME' }, sharedWeights, true],
    ];
    for (const format of ['NHWC', 'NCHW'] as const) for (const [k, [[n, c, h, w], out, kernel, opts, tuning, expected]] of statCases.entries()) {
      const xShape = layoutShape(format, [n!, c!, h!, w!]);
      const wShape = [out, c!, kernel, kernel];
      const g = conv2dGeometry(xShape, wShape, { ...opts, dataFormat: format });
      const xv = randomValues(n! * c! * h! * w!, 900 + k);
      const wv = randomValues(out * c! * kernel * kernel, 950 + k);
      const shiftV = randomValues(out, 990 + k);
      const label = `x [${xShape}] ${kernel}×${kernel} ${JSON.stringify(opts)} → ${out} ${format}, case ${k}`;
      const x = tensor(Float32Array.from(xv), xShape);
      const wt = tensor(Float32Array.from(wv), wShape);
      const shift = tensor(Float32Array.from(shiftV));
      const { y, statistics } = conv2dWithStatistics(x, wt, { ...opts, dataFormat: format, tuning }, shift);
      expectClose(await y.data(), conv2dForwardRef(xv, wv, null, g), TOL, `${label}: y`);
      assert.equal(statistics !== null, expected, `${label}: statistics computed`);
      if (statistics) {
        assert.equal(statistics.shift, shift);
        if (tuning === sharedWeights && size > 0 && tuning.tiles.gemm.workgroup % size === 0) {
          const tiles = Math.ceil(g.N * g.OH * g.OW / tuning.tiles.gemm.pixels);
          assert.equal(statistics.parts, Math.ceil(tiles / size), `${label}: one partial per subgroup`);
        }
        const partials = await statistics.partials.data();
        const got = new Float64Array(2 * out);
        for (let q = 0; q < 2; q++) for (let part = 0; part < statistics.parts; part++) for (let o = 0; o < out; o++) got[q * out + o]! += partials[(q * statistics.parts + part) * out + o]!;
        const yRef = conv2dForwardRef(xv, wv, null, g);
        const want = new Float64Array(2 * out);
        const channelOf = (i: number) => (format === 'NHWC' ? i % out : Math.floor(i / (g.OH * g.OW)) % out);
        yRef.forEach((v, i) => { const o = channelOf(i); const d = v - shiftV[o]!; want[o]! += d; want[out + o]! += d * d; });
        expectClose(got, want, { atol: 1e-3, rtol: 1e-4 }, `${label}: Σ(y − shift), Σ(y − shift)²`);
        // The last row holds the shift as summed (for an apply that updates the running mean in place).
        assert.equal(statistics.partials.size, (2 * statistics.parts + 1) * out, `${label}: [2·parts + 1, O]`);
        expectClose(partials.slice(2 * statistics.parts * out), Float32Array.from(shiftV), { atol: 0, rtol: 0 }, `${label}: the shift row`);
        statistics.partials.dispose();
      }
      for (const t of [x, wt, shift, y]) t.dispose();
    }
  });

  it('NCHW and NHWC agree after transposition (forward and gradients)', async () => {
    const [N, C, H, W, O] = [2, 6, 7, 5, 8];
    const xv = randomValues(N * C * H * W, 11);
    const wv = randomValues(O * C * 9, 12);
    const bv = randomValues(O, 13);
    const run = async (format: DataFormat) => {
      const x = tensor(Float32Array.from(format === 'NCHW' ? xv : nchwToNhwc(xv, N, C, H, W)), layoutShape(format, [N, C, H, W])).requireGrad();
      const w = tensor(Float32Array.from(wv), [O, C, 3, 3]).requireGrad();
      const b = tensor(Float32Array.from(bv), [O]).requireGrad();
      const y = conv2d(x, w, { bias: b, stride: 2, padding: 'SAME', dataFormat: format, tuning: TEST_TUNING });
      const OH = format === 'NCHW' ? y.shape[2]! : y.shape[1]!;
      const OW = format === 'NCHW' ? y.shape[3]! : y.shape[2]!;
      const dyNchw = randomValues(N * O * OH * OW, 14);
      const dy = tensor(Float32Array.from(format === 'NCHW' ? dyNchw : nchwToNhwc(dyNchw, N, O, OH, OW)), y.shape);
      const yv = await y.data();
      y.backward(dy);
      const out = {
        y: format === 'NCHW' ? nchwToNhwc(yv, N, O, OH, OW) : Float64Array.from(yv),
        dx: format === 'NCHW' ? nchwToNhwc(await x.grad!.data(), N, C, H, W) : Float64Array.from(await x.grad!.data()),
        dw: await w.grad!.data(),
        db: await b.grad!.data(),
      };
      for (const t of [x, w, b, y, dy]) t.dispose();
      return out;
    };
    const a = await run('NCHW');
    const b = await run('NHWC');
    for (const k of ['y', 'dx', 'dw', 'db'] as const) expectClose(b[k], a[k], { atol: 1e-5, rtol: 1e-5 }, `NHWC vs NCHW ${k}`);
  });
});

import type { DataFormat } from '@squeeze/kernels-wgsl';
import { batchNorm, batchNormRelu, batchNormReluConcat, batchNormReluConcatMaxPool, batchNormReluMaxPool, conv2dBatchNormReluMaxPool, type BatchNormOptions } from './index.js';
import { conv2d, conv2dWithStatistics, type Conv2dOptions } from '../conv2d/conv2d.js';
import { conv2dGeometry } from '../conv2d/geometry.js';
import type { ConvTuning } from '../conv2d/plan.js';
import { conv2dForwardRef } from '../conv2d/reference.js';
import { NO_ALGORITHMS } from '../conv2d/testing/cases.js';
import { maxPool2d, type Pool2dOptions } from '../pool/pool.js';
import { batchNormRef } from './reference.js';
import { pool2dRef } from '../pool/reference.js';
import { relu } from '../elementwise/elementwise.js';
import { tensor } from '../creation/creation.js';
import { concat } from '../shape-ops/shape-ops.js';
import { concatRef } from '../shape-ops/reference.js';
import { expectClose, gradCheck, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';
import { size, toLayout, f32, shapes, type Case, makeCase, caseTensors, refOptions, checkGradients } from './testing/cases.js';

describe('batch norm + ReLU + max-pool, fused', function () {
  // Small shapes: each test compiles a few pipelines (seconds on lavapipe) and checks on the CPU.
  this.timeout(300_000);
  it('batchNormReluMaxPool equals maxPool2d(batchNormRelu) (output, running stats, every gradient), ties included', async () => {
    // Fused: NHWC, C % 4 == 0, training, windows that tile (2×2, 3×3, 2×3). The rest takes the
    // two ops: NCHW, C % 4 != 0, overlapping windows, eval.
    const cases: Array<[number[], Pool2dOptions, DataFormat, boolean]> = [
      [[2, 4, 4, 8], { kernelSize: 2 }, 'NHWC', true], [[2, 6, 6, 4], { kernelSize: 3 }, 'NHWC', true],
      [[3, 4, 6, 8], { kernelSize: [2, 3] }, 'NHWC', true], [[2, 4, 4, 6], { kernelSize: 2 }, 'NHWC', true],
      [[2, 4, 4, 4], { kernelSize: 2, stride: 1 }, 'NHWC', true], [[2, 8, 4, 4], { kernelSize: 2 }, 'NCHW', true],
      [[2, 4, 4, 8], { kernelSize: 2 }, 'NHWC', false],
    ];
    for (const [k, [shape, poolOpts, dataFormat, training]] of cases.entries()) {
      const c = dataFormat === 'NHWC' ? shape[3]! : shape[1]!;
      const cs = makeCase(c, size(shape), 1200 + k, { weight: true, bias: true });
      // Coarse values: exact ties inside windows before the ReLU as well as the zeros after it.
      cs.x = cs.x.map((v) => Math.round(v * 2) / 2);
      const pool = { ...poolOpts, dataFormat };
      const run = async (fused: boolean) => {
        const { x, w, b, rm, rv } = caseTensors(cs, shape);
        const o = { weight: w, bias: b, runningMean: rm, runningVar: rv, training, dataFormat };
        const z = fused ? null : batchNormRelu(x, o);
        const y = z ? maxPool2d(z, pool) : batchNormReluMaxPool(x, o, pool);
        y.backward(tensor(f32(randomValues(y.size, 1300 + k)), y.shape));
        const out = [await y.data(), await x.grad!.data(), await w.grad!.data(), await b.grad!.data(), await rm.data(), await rv.data()];
        for (const t of [x, w, b, rm, rv, y, z]) t?.dispose();
        return out;
      };
      const fused = await run(true);
      const composed = await run(false);
      const label = `batchNormReluMaxPool [${shape}] ${dataFormat} ${JSON.stringify(poolOpts)} ${training ? 'training' : 'eval'}`;
      ['y', 'dx', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
        expectClose(fused[i]!, composed[i]!, { atol: 1e-5, rtol: 1e-5 }, `${label}: fused vs composed ${name}`);
      });
      const bn = batchNormRef(cs.x, shape, refOptions(cs, { training, momentum: 0.1, eps: 1e-5, dataFormat, relu: true })).y;
      expectClose(fused[0]!, pool2dRef('max', bn, shape, pool), { atol: 1e-4, rtol: 1e-4 }, `${label}: y against the float64 reference`);
    }
  });

  it('batchNormReluMaxPool gradients (x, weight, bias) match finite differences', async () => {
    const shape = [2, 4, 4, 8];
    const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat: 'NHWC' as const };
    const pool = { kernelSize: 2, dataFormat: 'NHWC' as const };
    // Values clear of the ReLU kink (as checkGradients), so the differences stay on one side of it.
    let seed = 1400;
    let cs = makeCase(8, size(shape), seed, { weight: true, bias: true });
    while (Math.min(...batchNormRef(cs.x, shape, refOptions(cs, o)).y.map(Math.abs)) < 0.02) cs = makeCase(8, size(shape), ++seed, { weight: true, bias: true });
    const stats: Tensor[] = [];
    await gradCheck({
      inputs: [{ shape, values: cs.x }, { shape: [8], values: cs.weight! }, { shape: [8], values: cs.bias! }],
      gpu: ([x, w, b]) => {
        const rm = tensor(f32(cs.runningMean));
        const rv = tensor(f32(cs.runningVar));
        stats.push(rm, rv);
        return batchNormReluMaxPool(x!, { ...o, weight: w!, bias: b!, runningMean: rm, runningVar: rv }, pool);
      },
      ref: ([x, w, b]) => pool2dRef('max', batchNormRef(x!, shape, { ...refOptions(cs, o), weight: w!, bias: b!, relu: true }).y, shape, pool),
      tol: { atol: 3e-3, rtol: 3e-3 },
      label: 'batchNormReluMaxPool NHWC',
    });
    for (const t of stats) t.dispose();
  });

  /**
   * Small tiles (quick to compile); the small-patch filter gradient in output tiles of 4 (several
   * per layer) and chunks of 8 pixels (several per image). `perTap`: the same without it.
   */
  const CONV_TUNING: ConvTuning = {
    algorithms: { ...NO_ALGORITHMS, filterPatch: true },
    tiles: {
      gemm: { pixels: 8, channels: 8, workgroup: 16, unroll: { NCHW: 1, NHWC: 1 } },
      backwardFilter: {
        NCHW: { inChannels: 4, outChannels: 8, workgroup: 16, chunkPixels: 32 },
        NHWC: { inChannels: 4, outChannels: 8, workgroup: 16, chunkPixels: 32 },
      },
      filterPatch: { outChannels: 4, workgroup: 16, chunkPixels: 8 },
      helperWorkgroup: 64,
    },
  };
  const withAlgorithms = (a: Partial<ConvTuning['algorithms']>): ConvTuning => ({ ...CONV_TUNING, algorithms: { ...CONV_TUNING.algorithms, ...a } });
  const perTap = withAlgorithms({ filterPatch: false });

  /** float64 maxPool(relu(batchNorm(conv(x, w)))) for NHWC or NCHW x. */
  const convBlockRef = (x: Float64Array, w: Float64Array, xShape: number[], wShape: number[], conv: Conv2dOptions, cs: Case, o: { training: boolean; momentum: number; eps: number; dataFormat: DataFormat }, pool: Pool2dOptions) => {
    const g = conv2dGeometry(xShape, wShape, conv);
    const yShape = o.dataFormat === 'NHWC' ? [g.N, g.OH, g.OW, g.O] : [g.N, g.O, g.OH, g.OW];
    const bn = batchNormRef(conv2dForwardRef(x, w, null, g), yShape, { ...refOptions(cs, o), relu: true }).y;
    return pool2dRef('max', bn, yShape, pool);
  };

  it('conv2dBatchNormReluMaxPool equals the ops in sequence and the float64 reference (output, running stats, every gradient)', async () => {
    // Fused (NHWC, small patch): conv1-like 2×2 SAME over 3 channels, a 3×2 kernel over 2 channels
    // with stride and VALID padding, 12 output channels (3 tiles of 4), x with and without a gradient
    // (backward-data from the full-size gradient). Not fused: NCHW, a convolution with bias.
    const cases: Array<{ x: number[]; w: number[]; conv: Conv2dOptions; pool: Pool2dOptions; format: DataFormat; xGrad: boolean }> = [
      { x: [2, 3, 8, 8], w: [8, 3, 2, 2], conv: { padding: 'SAME' }, pool: { kernelSize: 2 }, format: 'NHWC', xGrad: false },
      { x: [2, 3, 8, 8], w: [12, 3, 2, 2], conv: { padding: 'SAME' }, pool: { kernelSize: 2 }, format: 'NHWC', xGrad: true },
      { x: [3, 2, 9, 7], w: [8, 2, 3, 2], conv: { stride: [1, 2], padding: 'VALID' }, pool: { kernelSize: [7, 3] }, format: 'NHWC', xGrad: true },
      { x: [2, 3, 8, 8], w: [8, 3, 2, 2], conv: { padding: 'SAME' }, pool: { kernelSize: 2 }, format: 'NCHW', xGrad: true },
    ];
    for (const [k, c] of cases.entries()) {
      const xShape = toLayout(c.x, c.format);
      const conv = { ...c.conv, dataFormat: c.format };
      const pool = { ...c.pool, dataFormat: c.format };
      const O = c.w[0]!;
      const cs = makeCase(O, size(c.x), 1500 + k, { weight: true, bias: true });
      const xv = randomValues(size(c.x), 1600 + k);
      const wv = randomValues(size(c.w), 1700 + k);
      const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat: c.format };
      const run = async (fused: boolean, tuning: ConvTuning, withBias = false) => {
        const x = tensor(Float32Array.from(xv), xShape).requireGrad(c.xGrad);
        const w = tensor(Float32Array.from(wv), c.w).requireGrad();
        const convBias = withBias ? tensor(new Float32Array(O)) : undefined;
        const bw = tensor(f32(cs.weight!)).requireGrad();
        const bb = tensor(f32(cs.bias!)).requireGrad();
        const rm = tensor(f32(cs.runningMean));
        const rv = tensor(f32(cs.runningVar));
        const bn = { weight: bw, bias: bb, runningMean: rm, runningVar: rv, ...o };
        const y = fused
          ? conv2dBatchNormReluMaxPool(x, w, { ...conv, tuning, bias: convBias }, bn, pool)
          : batchNormReluMaxPool(conv2d(x, w, { ...conv, tuning }), bn, pool);
        y.backward(tensor(f32(randomValues(y.size, 1800 + k)), y.shape));
        const out = [await y.data(), c.xGrad ? await x.grad!.data() : new Float32Array(), await w.grad!.data(), await bw.grad!.data(), await bb.grad!.data(), await rm.data(), await rv.data()];
        for (const t of [x, w, convBias, bw, bb, rm, rv, y]) t?.dispose();
        return out;
      };
      const composed = await run(false, perTap);
      const label = `conv2dBatchNormReluMaxPool x [${xShape}] w [${c.w}] ${JSON.stringify(c.conv)} ${c.format}`;
      const variants: Array<[string, Promise<ArrayLike<number>[]>]> = [
        ['fused', run(true, CONV_TUNING)], ['fused, statistics from the convolution', run(true, withAlgorithms({ epilogueStatistics: true }))],
        ['with a convolution bias (not fused)', run(true, CONV_TUNING, true)],
      ];
      for (const [what, pending] of variants) {
        const got = await pending;
        ['y', 'dx', 'dw', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
          expectClose(got[i]!, composed[i]!, { atol: 2e-5, rtol: 2e-5 }, `${label} ${what}: ${name} against the ops in sequence`);
        });
        expectClose(got[0]!, convBlockRef(xv, wv, xShape, c.w, conv, cs, o, pool), { atol: 1e-4, rtol: 1e-4 }, `${label} ${what}: y against the float64 reference`);
      }
    }
  });

  it('conv2dBatchNormReluMaxPool gradients (x, w, batch-norm shift) match finite differences', async () => {
    const xShape = [2, 4, 4, 3];
    const wShape = [8, 3, 2, 2];
    const conv = { padding: 'SAME' as const, dataFormat: 'NHWC' as const, tuning: CONV_TUNING };
    const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat: 'NHWC' as const };
    const pool = { kernelSize: 2, dataFormat: 'NHWC' as const };
    // Inputs whose normalised conv outputs keep clear of the ReLU kink (as checkGradients).
    let seed = 1900;
    const pick = () => ({ x: randomValues(size(xShape), seed), w: randomValues(size(wShape), seed + 1), cs: makeCase(8, 32, seed + 2, { weight: false, bias: true }) });
    const preActivations = (p: ReturnType<typeof pick>) => {
      const g = conv2dGeometry(xShape, wShape, conv);
      return batchNormRef(conv2dForwardRef(p.x, p.w, null, g), [2, 4, 4, 8], refOptions(p.cs, o)).y;
    };
    let p = pick();
    while (Math.min(...preActivations(p).map(Math.abs)) < 0.02) { seed += 3; p = pick(); }
    const stats: Tensor[] = [];
    await gradCheck({
      inputs: [{ shape: xShape, values: p.x }, { shape: wShape, values: p.w }, { shape: [8], values: p.cs.bias! }],
      gpu: ([x, w, b]) => {
        const rm = tensor(f32(p.cs.runningMean));
        const rv = tensor(f32(p.cs.runningVar));
        stats.push(rm, rv);
        return conv2dBatchNormReluMaxPool(x!, w!, conv, { ...o, bias: b!, runningMean: rm, runningVar: rv }, pool);
      },
      ref: ([x, w, b]) => convBlockRef(x!, w!, xShape, wShape, conv, { ...p.cs, bias: b! }, o, pool),
      tol: { atol: 3e-3, rtol: 3e-3 },
      label: 'conv2dBatchNormReluMaxPool NHWC',
    });
    for (const t of stats) t.dispose();
  });

  it('takes the statistics its input\'s convolution summed (conv2dWithStatistics): same outputs, running stats and gradients, also far from zero', async () => {
    const tuning = withAlgorithms({ epilogueStatistics: true });
    // 2·32·41 = 2624 pixels: 328 tiles of 8, many more partials than BN_STATS_PARTS (the apply's invocations lengthen to match).
    const xShape = [2, 32, 41, 3];
    const xv = randomValues(size(xShape), 2000);
    // Two branches (as a fire module's expands, through batchNormReluConcat) and one alone (batchNormRelu);
    // a conv bias of 40 puts the outputs' means far from zero, the running mean starts near it.
    const branches = [{ out: 8, k: 1, seed: 2100 }, { out: 4, k: 3, seed: 2200 }];
    const run = async (given: boolean, concat: boolean) => {
      const x = tensor(Float32Array.from(xv), xShape).requireGrad();
      const made = branches.slice(0, concat ? 2 : 1).map((b) => {
        const w = tensor(Float32Array.from(randomValues(b.out * 3 * b.k * b.k, b.seed)), [b.out, 3, b.k, b.k]).requireGrad();
        const convBias = tensor(Float32Array.from(randomValues(b.out, b.seed + 1, 39, 41)));
        const cs = makeCase(b.out, 1, b.seed + 2, { weight: true, bias: true });
        const bw = tensor(f32(cs.weight!)).requireGrad();
        const bb = tensor(f32(cs.bias!)).requireGrad();
        const rm = tensor(f32(cs.runningMean.map((v) => v + 40)));
        const rv = tensor(f32(cs.runningVar));
        const conv: Conv2dOptions = { padding: 'SAME', dataFormat: 'NHWC', bias: convBias, tuning };
        const { y, statistics } = given ? conv2dWithStatistics(x, w, conv, rm) : { y: conv2d(x, w, conv), statistics: null };
        if (given && !statistics) throw new Error('the convolution summed no statistics');
        const bn: BatchNormOptions = { weight: bw, bias: bb, runningMean: rm, runningVar: rv, training: true, momentum: 0.1, eps: 1e-5, dataFormat: 'NHWC', statistics };
        return { w, convBias, bw, bb, rm, rv, y, statistics, bn };
      });
      const out = concat ? batchNormReluConcat(made.map((m) => m.y), made.map((m) => m.bn)) : batchNormRelu(made[0]!.y, made[0]!.bn);
      out.backward(tensor(f32(randomValues(out.size, 2300)), out.shape));
      const values = [await out.data(), await x.grad!.data()];
      for (const m of made) values.push(await m.w.grad!.data(), await m.bw.grad!.data(), await m.bb.grad!.data(), await m.rm.data(), await m.rv.data());
      for (const m of made) for (const t of [m.w, m.convBias, m.bw, m.bb, m.rm, m.rv, m.y, m.statistics?.partials]) t?.dispose();
      x.dispose();
      out.dispose();
      return values;
    };
    for (const concat of [false, true]) {
      const [given, own] = [await run(true, concat), await run(false, concat)];
      const names = ['y', 'dx', ...branches.slice(0, concat ? 2 : 1).flatMap((_, i) => ['dw', 'dweight', 'dbias', 'running mean', 'running var'].map((n) => `branch ${i} ${n}`))];
      // The apply adds the convolution's 328 partials one after another, the unfused path its own 32:
      // float32 rounding apart, which the filter gradient (a sum over every pixel) carries to ~1e-4.
      names.forEach((name, i) => expectClose(given[i]!, own[i]!, { atol: 1e-4, rtol: 3e-4 }, `${concat ? 'batchNormReluConcat' : 'batchNormRelu'} with the convolution's statistics: ${name}`));
    }
  });

  it('rejects statistics shifted by another tensor than its running mean', async () => {
    const x = tensor(f32(randomValues(2 * 3 * 3 * 4, 2400)), [2, 3, 3, 4]);
    const w = tensor(f32(randomValues(4 * 4, 2401)), [4, 4, 1, 1]);
    const [rm, rv, other] = [tensor(new Float32Array(4)), tensor(new Float32Array(4).fill(1)), tensor(new Float32Array(4))];
    const { y, statistics } = conv2dWithStatistics(x, w, { dataFormat: 'NHWC', tuning: withAlgorithms({ epilogueStatistics: true }) }, other);
    let message = '';
    try { batchNormRelu(y, { runningMean: rm, runningVar: rv, training: true, dataFormat: 'NHWC', statistics }); } catch (e) { message = (e as Error).message; }
    if (!message.includes('runningMean')) throw new Error(`unexpected error: '${message}'`);
    for (const t of [x, w, rm, rv, other, y, statistics?.partials]) t?.dispose();
  });

  it('batchNormReluConcatMaxPool equals maxPool2d(batchNormReluConcat) (output, running stats, every gradient), ties included', async () => {
    // Fused: NHWC, training, channels % 4 == 0 per branch, windows that tile (2×2 and 3×1 over three
    // branches). Not fused: a branch of 6 channels, NCHW, eval.
    const cases: Array<[number[][], Pool2dOptions, DataFormat, boolean]> = [
      [[[2, 4, 4, 8], [2, 4, 4, 4]], { kernelSize: 2 }, 'NHWC', true],
      [[[3, 6, 2, 4], [3, 6, 2, 12], [3, 6, 2, 4]], { kernelSize: [3, 1] }, 'NHWC', true],
      [[[2, 4, 4, 8], [2, 4, 4, 6]], { kernelSize: 2 }, 'NHWC', true],
      [[[2, 4, 4, 4], [2, 8, 4, 4]], { kernelSize: 2 }, 'NCHW', true],
      [[[2, 4, 4, 8], [2, 4, 4, 4]], { kernelSize: 2 }, 'NHWC', false],
    ];
    for (const [k, [shapes, poolOpts, dataFormat, training]] of cases.entries()) {
      const pool = { ...poolOpts, dataFormat };
      const channels = shapes.map((sh) => (dataFormat === 'NHWC' ? sh[3]! : sh[1]!));
      const css = shapes.map((sh, i) => {
        const cs = makeCase(channels[i]!, size(sh), 2500 + 10 * k + i, { weight: true, bias: true });
        cs.x = cs.x.map((v) => Math.round(v * 2) / 2); // exact ties, inside windows and after the ReLU
        return cs;
      });
      const run = async (fused: boolean) => {
        const ts = css.map((cs, i) => caseTensors(cs, shapes[i]!));
        const opts = ts.map((t) => ({ weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv, training, dataFormat }));
        const xs = ts.map((t) => t.x);
        const z = fused ? null : batchNormReluConcat(xs, opts);
        const y = z ? maxPool2d(z, pool) : batchNormReluConcatMaxPool(xs, opts, pool);
        y.backward(tensor(f32(randomValues(y.size, 2600 + k)), y.shape));
        const out = [await y.data()];
        for (const t of ts) out.push(await t.x.grad!.data(), await t.w.grad!.data(), await t.b.grad!.data(), await t.rm.data(), await t.rv.data());
        for (const t of ts) for (const u of [t.x, t.w, t.b, t.rm, t.rv]) u.dispose();
        for (const t of [y, z]) t?.dispose();
        return out;
      };
      const [fused, composed] = [await run(true), await run(false)];
      const label = `batchNormReluConcatMaxPool ${shapes.map((sh) => `[${sh}]`).join(' ‖ ')} ${dataFormat} ${JSON.stringify(poolOpts)} ${training ? 'training' : 'eval'}`;
      const names = ['y', ...shapes.flatMap((_, i) => ['dx', 'dweight', 'dbias', 'running mean', 'running var'].map((n) => `branch ${i} ${n}`))];
      names.forEach((name, i) => expectClose(fused[i]!, composed[i]!, { atol: 1e-5, rtol: 1e-5 }, `${label}: fused vs composed ${name}`));
      // y against float64: each branch normalised and rectified, concatenated, pooled.
      const axis = dataFormat === 'NHWC' ? 3 : 1;
      const bns = css.map((cs, i) => batchNormRef(cs.x, shapes[i]!, refOptions(cs, { training, momentum: 0.1, eps: 1e-5, dataFormat, relu: true })).y);
      const catShape = [...shapes[0]!];
      catShape[axis] = channels.reduce((a, b) => a + b, 0);
      expectClose(fused[0]!, pool2dRef('max', concatRef(bns, shapes, axis), catShape, pool), { atol: 1e-4, rtol: 1e-4 }, `${label}: y against the float64 reference`);
    }
  });

  it('batchNormReluConcatMaxPool gradients match finite differences', async () => {
    const shapes = [[2, 4, 4, 4], [2, 4, 4, 8]];
    const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat: 'NHWC' as const };
    const pool = { kernelSize: 2, dataFormat: 'NHWC' as const };
    // Values clear of the ReLU kink (as checkGradients) and each 2×2 window's maximum clear of its
    // runner-up, so the finite differences (step 1e-3) move no kink and no argmax.
    const clear = (y: Float64Array, [n, h, w, c]: number[]) => {
      let gap = Math.min(...y.map(Math.abs));
      for (let i = 0; i < n! * (h! / 2) * (w! / 2) * c!; i++) {
        const ch = i % c!;
        const px = Math.floor(i / c!) % (w! / 2);
        const py = Math.floor(i / (c! * (w! / 2))) % (h! / 2);
        const img = Math.floor(i / (c! * (w! / 2) * (h! / 2)));
        const v = [0, 1, 2, 3].map((q) => y[((img * h! + 2 * py + (q >> 1)) * w! + 2 * px + (q & 1)) * c! + ch]!).sort((a, b) => b - a);
        if (v[0]! > 0) gap = Math.min(gap, v[0]! - v[1]!);
      }
      return gap;
    };
    let seed = 2700;
    const pick = (c: number, sh: number[]) => {
      let cs = makeCase(c, size(sh), seed, { weight: false, bias: true });
      while (clear(batchNormRef(cs.x, sh, refOptions(cs, o)).y, sh) < 0.02) cs = makeCase(c, size(sh), ++seed, { weight: false, bias: true });
      seed += 7;
      return cs;
    };
    const css = shapes.map((sh) => pick(sh[3]!, sh));
    const stats: Tensor[] = [];
    await gradCheck({
      inputs: [...shapes.map((sh, i) => ({ shape: sh, values: css[i]!.x })), ...css.map((cs) => ({ shape: [cs.bias!.length], values: cs.bias! }))],
      gpu: ([x0, x1, b0, b1]) => {
        const bn = css.map((cs, i) => {
          const rm = tensor(f32(cs.runningMean));
          const rv = tensor(f32(cs.runningVar));
          stats.push(rm, rv);
          return { ...o, bias: [b0, b1][i]!, runningMean: rm, runningVar: rv };
        });
        return batchNormReluConcatMaxPool([x0!, x1!], bn, pool);
      },
      ref: ([x0, x1, b0, b1]) => {
        const bns = [x0!, x1!].map((x, i) => batchNormRef(x, shapes[i]!, { ...refOptions(css[i]!, o), bias: [b0, b1][i]!, relu: true }).y);
        return pool2dRef('max', concatRef(bns, shapes, 3), [2, 4, 4, 12], pool);
      },
      tol: { atol: 3e-3, rtol: 3e-3 },
      label: 'batchNormReluConcatMaxPool NHWC',
    });
    for (const t of stats) t.dispose();
  });

});

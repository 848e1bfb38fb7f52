import type { DataFormat } from '@squeeze/kernels-wgsl';
import { batchNorm, batchNormRelu, batchNormReluConcat } from './index.js';
import { batchNormRef } from './reference.js';
import { nchwToNhwc, nhwcToNchw } from '../pool/reference.js';
import { relu } from '../elementwise/elementwise.js';
import { tensor } from '../creation/creation.js';
import { concat } from '../shape-ops/shape-ops.js';
import { concatRef } from '../shape-ops/reference.js';
import { expectClose, gradCheck, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';
import { size, toLayout, f32, shapes, makeCase, affineCombos, caseTensors, runGpu, refOptions, checkGradients } from './testing/cases.js';

describe('batch norm', function () {
  // Small shapes: each test compiles a few pipelines (seconds on lavapipe) and checks on the CPU.
  this.timeout(300_000);
  for (const training of [true, false]) {
    it(`${training ? 'training' : 'eval'} forward (and fused ReLU) matches the float64 reference in both layouts${training ? ', running stats included' : ''}`, async () => {
      for (const [k, nchw] of shapes.entries()) {
        for (const dataFormat of (nchw.length === 2 ? ['NCHW'] : ['NCHW', 'NHWC']) as DataFormat[]) {
          const shape = toLayout(nchw, dataFormat);
          for (const [j, fused] of [false, true].entries()) {
            const affine = affineCombos[(k + 2 * j) % affineCombos.length]!;
            const cs = makeCase(nchw[1]!, size(shape), 10 * k + j, affine);
            const o = { training, momentum: k % 2 ? 0.3 : 0.1, eps: k % 3 ? 1e-5 : 1e-3, dataFormat };
            const got = await runGpu(cs, shape, o, fused);
            const want = batchNormRef(cs.x, shape, refOptions(cs, { ...o, relu: fused }));
            const label = `${fused ? 'batchNormRelu' : 'batchNorm'} [${shape}] ${dataFormat} w:${affine.weight} b:${affine.bias}`;
            expectClose(got.y, want.y, { atol: 1e-4, rtol: 1e-4 }, label);
            expectClose(got.runningMean, want.runningMean, { atol: 1e-5, rtol: 1e-5 }, `${label} running mean`);
            expectClose(got.runningVar, want.runningVar, { atol: 1e-5, rtol: 1e-5 }, `${label} running var`);
          }
        }
      }
    });
  }

  it('keeps the variance accurate when the mean is large next to the spread', async () => {
    for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[]) {
      const shape = toLayout([8, 4, 8, 8], dataFormat);
      const cs = makeCase(4, size(shape), 3, { weight: true, bias: true });
      cs.x = cs.x.map((v) => 200 + 0.1 * v);
      const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat };
      const got = await runGpu(cs, shape, o, false);
      const want = batchNormRef(cs.x, shape, refOptions(cs, o));
      expectClose(got.y, want.y, { atol: 2e-3, rtol: 1e-3 }, `large mean ${dataFormat}`);
      expectClose(got.runningVar, want.runningVar, { atol: 1e-5, rtol: 1e-3 }, `large mean running var ${dataFormat}`);
    }
  });

  it('training gradients (x, weight, bias) match finite differences in both layouts', async () => {
    for (const [k, [nchw, dataFormat]] of ([[[2, 3, 3, 3], 'NCHW'], [[2, 3, 3, 3], 'NHWC'], [[3, 2, 1, 1], 'NHWC'], [[2, 6, 4, 4], 'NCHW'], [[2, 8, 3, 3], 'NHWC'], [[6, 5], 'NCHW']] as Array<[number[], DataFormat]>).entries()) {
      await checkGradients(toLayout(nchw, dataFormat), dataFormat, true, false, 100 + k);
    }
  });

  it('eval gradients (x, weight, bias) match finite differences', async () => {
    for (const [k, [nchw, dataFormat]] of ([[[2, 3, 3, 3], 'NCHW'], [[2, 8, 3, 3], 'NHWC'], [[4, 6], 'NCHW']] as Array<[number[], DataFormat]>).entries()) {
      await checkGradients(toLayout(nchw, dataFormat), dataFormat, false, false, 200 + k);
    }
  });

  it('gradients when only some inputs need one', async () => {
    await checkGradients([2, 3, 3, 3], 'NCHW', true, false, 300, { x: false, weight: true, bias: true });
    await checkGradients([2, 3, 3, 8], 'NHWC', true, false, 301, { x: true, weight: false, bias: false });
    await checkGradients([2, 4, 2, 2], 'NCHW', false, false, 302, { x: false, weight: false, bias: true });
    await checkGradients([2, 4, 2, 2], 'NCHW', false, false, 303, { x: true, weight: false, bias: false });
  });

  it('batchNormRelu gradients match finite differences (training and eval)', async () => {
    await checkGradients([2, 3, 3, 3], 'NCHW', true, true, 402);
    await checkGradients([2, 2, 2, 8], 'NHWC', true, true, 400);
    await checkGradients([2, 8, 2, 2], 'NCHW', false, true, 401);
  });

  it('batchNormRelu equals batchNorm followed by relu, gradients included', async () => {
    for (const [k, [shape, dataFormat, training]] of ([[[2, 6, 4, 4], 'NCHW', true], [[2, 3, 5, 5], 'NCHW', false], [[2, 4, 4, 8], 'NHWC', true], [[2, 3, 3, 5], 'NHWC', true]] as Array<[number[], DataFormat, boolean]>).entries()) {
      const c = dataFormat === 'NHWC' ? shape[3]! : shape[1]!;
      const cs = makeCase(c, size(shape), 500 + k, { weight: true, bias: true });
      const up = randomValues(size(shape), 600 + k);
      const run = async (fused: boolean) => {
        const { x, w, b, rm, rv } = caseTensors(cs, shape);
        const o = { weight: w, bias: b, runningMean: rm, runningVar: rv, training, dataFormat };
        const z = fused ? null : batchNorm(x, o);
        const y = z ? relu(z) : batchNormRelu(x, o);
        y.backward(tensor(f32(up), shape));
        const out = [await y.data(), await x.grad!.data(), await w.grad!.data(), await b.grad!.data(), await rm.data(), await rv.data()];
        for (const t of [x, w, b, rm, rv, y, z]) t?.dispose();
        return out;
      };
      const fused = await run(true);
      const composed = await run(false);
      ['y', 'dx', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
        expectClose(fused[i]!, composed[i]!, { atol: 1e-5, rtol: 1e-5 }, `fused vs composed [${shape}] ${dataFormat} ${name}`);
      });
    }
  });

  it('batchNormReluConcat equals concat of batchNormRelu branches (output, running stats, every gradient)', async () => {
    // [N, C1 + C2, H, W] in NCHW terms: vec4 and scalar paths, channel offsets not divisible by 4.
    const cases: Array<[number[], number[], DataFormat]> = [
      [[2, 0, 4, 4], [4, 8], 'NHWC'], [[2, 0, 3, 3], [3, 5], 'NHWC'], [[2, 0, 4, 4], [8, 4], 'NCHW'], [[3, 0, 3, 5], [2, 3], 'NCHW'], [[6, 0], [3, 4], 'NCHW'],
    ];
    for (const [k, [nchw, split, dataFormat]] of cases.entries()) {
      const branchShape = (c: number) => toLayout(nchw.map((d, i) => (i === 1 ? c : d)), dataFormat);
      const axis = dataFormat === 'NHWC' && nchw.length === 4 ? 3 : 1;
      const css = split.map((c, i) => makeCase(c, size(branchShape(c)), 800 + 10 * k + i, { weight: i === 0, bias: true }));
      const total = split.reduce((a, b) => a + b, 0);
      const outShape = branchShape(total);
      const up = randomValues(size(outShape), 900 + k);
      const run = async (fusedConcat: boolean) => {
        const made = css.map((cs, i) => ({
          x: tensor(f32(cs.x), branchShape(split[i]!)).requireGrad(),
          w: cs.weight ? tensor(f32(cs.weight)).requireGrad() : null,
          b: tensor(f32(cs.bias!)).requireGrad(),
          rm: tensor(f32(cs.runningMean)), rv: tensor(f32(cs.runningVar)),
        }));
        const opts = made.map((m) => ({ weight: m.w, bias: m.b, runningMean: m.rm, runningVar: m.rv, training: true, dataFormat }));
        const parts = fusedConcat ? [] : made.map((m, i) => batchNormRelu(m.x, opts[i]!));
        const y = fusedConcat ? batchNormReluConcat(made.map((m) => m.x), opts, ['a', 'b']) : concat(parts, axis);
        y.backward(tensor(f32(up), outShape));
        const out: Array<Float32Array | Int32Array> = [await y.data()];
        for (const m of made) out.push(await m.x.grad!.data(), await m.b.grad!.data(), await m.rm.data(), await m.rv.data(), ...(m.w ? [await m.w.grad!.data()] : []));
        for (const t of [y, ...parts, ...made.flatMap((m) => [m.x, m.w, m.b, m.rm, m.rv])]) t?.dispose();
        return out;
      };
      const fused = await run(true);
      const composed = await run(false);
      if (fused.length !== composed.length) throw new Error('different numbers of results');
      fused.forEach((v, i) => expectClose(v, composed[i]!, { atol: 1e-5, rtol: 1e-5 }, `batchNormReluConcat [${outShape}] ${dataFormat} split ${split}: result ${i}`));
    }
  });


  it('batchNormReluConcat gradients match finite differences', async () => {
    for (const [shapes, dataFormat, seed] of [[[[2, 3, 3, 3], [2, 3, 3, 5]], 'NHWC', 1000], [[[2, 2, 3, 3], [2, 4, 3, 3]], 'NCHW', 1100]] as Array<[number[][], DataFormat, number]>) {
      const axis = dataFormat === 'NHWC' ? 3 : 1;
      const channels = shapes.map((s) => s[axis]!);
      const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat };
      // Values clear of the ReLU kink, as in checkGradients.
      let s0 = seed;
      const pick = (c: number, n: number, shape: number[]) => {
        let cs = makeCase(c, n, s0, { weight: false, bias: true });
        while (Math.min(...batchNormRef(cs.x, shape, refOptions(cs, o)).y.map(Math.abs)) < 0.02) cs = makeCase(c, n, ++s0, { weight: false, bias: true });
        s0 += 7;
        return cs;
      };
      const css = shapes.map((s, i) => pick(channels[i]!, size(s), s));
      const stats: Tensor[] = [];
      await gradCheck({
        inputs: shapes.flatMap((s, i) => [{ shape: s, values: css[i]!.x }, { shape: [channels[i]!], values: css[i]!.bias! }]),
        gpu: (ts) => {
          const opts = shapes.map((_, i) => {
            const rm = tensor(f32(css[i]!.runningMean));
            const rv = tensor(f32(css[i]!.runningVar));
            stats.push(rm, rv);
            return { bias: ts[2 * i + 1]!, runningMean: rm, runningVar: rv, training: true, dataFormat };
          });
          return batchNormReluConcat(shapes.map((_, i) => ts[2 * i]!), opts);
        },
        ref: (vs) => concatRef(shapes.map((s, i) => batchNormRef(vs[2 * i]!, s, { ...refOptions({ ...css[i]!, bias: vs[2 * i + 1]! }, o), relu: true }).y), shapes, axis),
        tol: { atol: 2e-3, rtol: 2e-2 },
        label: `batchNormReluConcat ${dataFormat}`,
      });
      for (const t of stats) t.dispose();
    }
  });

  it('agrees between NCHW and NHWC after transposition (output, running stats, gradients)', async () => {
    const nchw = [3, 8, 5, 4];
    const cs = makeCase(8, size(nchw), 700, { weight: true, bias: true });
    const up = randomValues(size(nchw), 701);
    const run = async (dataFormat: DataFormat) => {
      const nhwc = dataFormat === 'NHWC';
      const x = tensor(f32(nhwc ? nchwToNhwc(cs.x, nchw) : cs.x), toLayout(nchw, dataFormat)).requireGrad();
      const w = tensor(f32(cs.weight!)).requireGrad();
      const b = tensor(f32(cs.bias!)).requireGrad();
      const rm = tensor(f32(cs.runningMean));
      const rv = tensor(f32(cs.runningVar));
      const y = batchNormRelu(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: true, dataFormat });
      y.backward(tensor(f32(nhwc ? nchwToNhwc(up, nchw) : up), y.shape));
      const back = (v: Float32Array | Int32Array) => (nhwc ? nhwcToNchw(v, nchw) : v);
      const out = [back(await y.data()), back(await x.grad!.data()), await w.grad!.data(), await b.grad!.data(), await rm.data(), await rv.data()];
      for (const t of [x, w, b, rm, rv, y]) t.dispose();
      return out;
    };
    const a = await run('NCHW');
    const b = await run('NHWC');
    ['y', 'dx', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
      expectClose(b[i]!, a[i]!, { atol: 1e-5, rtol: 1e-4 }, `NHWC vs NCHW ${name}`);
    });
  });

  it('rejects training with one value per channel and mis-shaped parameters', () => {
    const x = tensor(new Float32Array(3), [1, 3, 1, 1]);
    const rm = tensor(new Float32Array(3));
    const rv = tensor(new Float32Array(3).fill(1));
    const message = (f: () => Tensor): string => { try { f().dispose(); return ''; } catch (e) { return (e as Error).message; } };
    const one = message(() => batchNorm(x, { runningMean: rm, runningVar: rv, training: true }));
    if (!one.includes('more than one value per channel')) throw new Error(`unexpected error: '${one}'`);
    const w = tensor(new Float32Array(4));
    const bad = message(() => batchNorm(x, { weight: w, runningMean: rm, runningVar: rv, training: false }));
    if (!bad.includes('[3]') || !bad.includes('[4]')) throw new Error(`unexpected error: '${bad}'`);
    for (const t of [x, rm, rv, w]) t.dispose();
  });
});

import { maxPool2d, avgPool2d, globalAvgPool, pool2dGeometry, type Pool2dOptions } from './pool.js';
import { pool2dRef, maxPool2dGradRef, globalAvgPoolRef, nchwToNhwc, nhwcToNchw } from './reference.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { Random } from '../../random.js';
import type { Tensor } from '../../tensor.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

const formats: DataFormat[] = ['NCHW', 'NHWC'];
const toLayout = ([n, c, h, w]: number[], f: DataFormat): number[] => (f === 'NCHW' ? [n!, c!, h!, w!] : [n!, h!, w!, c!]);

/** [NCHW shape, options]: odd sizes, batch 1, 1×1 spatial, C not divisible by 4, every padding mode. */
const cases: Array<[number[], Omit<Pool2dOptions, 'dataFormat'>]> = [
  [[2, 3, 7, 7], { kernelSize: 3, stride: 2, padding: 'SAME' }],
  [[2, 3, 8, 8], { kernelSize: 3, stride: 2, padding: 'SAME' }], // the odd pad pixel at bottom/right
  [[1, 5, 6, 6], { kernelSize: 2, stride: 2, padding: 'VALID' }],
  [[2, 4, 5, 5], { kernelSize: 3, stride: 1, padding: 1 }],
  [[3, 8, 1, 1], { kernelSize: 3, stride: 1, padding: 'SAME' }],
  [[2, 8, 9, 7], { kernelSize: [3, 2], stride: [2, 1] }],
  [[1, 2, 4, 4], { kernelSize: 1 }],
  [[2, 12, 7, 6], { kernelSize: 2, stride: 3, padding: 'VALID' }], // inputs no window reads
  // windows tiling the input exactly (the max backward writes each window's inputs): vec4 and rectangular
  [[2, 8, 4, 6], { kernelSize: 2, stride: 2, padding: 'VALID' }],
  [[2, 3, 6, 4], { kernelSize: [3, 2] }],
  // NCHW windows two wide tiling rows of whole vec4s (the pairs kernels): square and 3 tall
  [[2, 3, 4, 16], { kernelSize: 2, stride: 2 }],
  [[1, 2, 6, 8], { kernelSize: [3, 2] }],
  // ceilMode: a partial last window kept (5 → 3), with padding (6 → 4), and one PyTorch drops (5 → 2)
  [[2, 3, 5, 5], { kernelSize: 2, stride: 2, ceilMode: true }],
  [[1, 4, 6, 6], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
  [[1, 2, 5, 7], { kernelSize: 3, stride: 3, padding: 1, ceilMode: true }],
  // countIncludePad (avg divides by the padded window, as PyTorch's default; max ignores it)
  [[2, 4, 5, 5], { kernelSize: 3, stride: 2, padding: 1, countIncludePad: true }],
  [[1, 3, 6, 5], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true }],
];

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const label = (op: string, s: number[], o: Pool2dOptions) => `${op} [${s}] ${o.dataFormat} k${o.kernelSize} s${o.stride ?? '='} ${o.padding ?? 'VALID'}`;

/** Distinct values 0.01 apart, so finite differences never cross a tie. */
function distinctValues(n: number, seed: number): Float64Array {
  const perm = new Random(seed).permutation(n);
  return Float64Array.from(perm, (p) => (p - n / 2) * 0.01);
}

describe('pooling', function () {
  // Each case compiles kernel variants (LLVM on lavapipe) and checks gradients by finite differences:
  // seconds alone, minutes on a loaded 2-core machine.
  this.timeout(600_000);
  it('countIncludePad divides by PyTorch\'s padded window size', async () => {
    // F.avg_pool2d(ones(1, 1, 3, 3), 3, 1, padding=1) (count_include_pad=True): 4/9 at corners, 6/9 at edges, 1 in the middle
    const got = await gpuValues(() => avgPool2d(tensor(new Float32Array(9).fill(1), [1, 1, 3, 3]), { kernelSize: 3, stride: 1, padding: 1, countIncludePad: true }));
    expectClose(got, [4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => v / 9), { atol: 1e-6, rtol: 1e-6 }, 'count_include_pad');
  });

  it('ceilMode gives PyTorch\'s output sizes', () => {
    // torch.nn.functional.max_pool2d(…, ceil_mode=True) output sizes for these inputs
    const expected: Array<[number[], Pool2dOptions, number[]]> = [
      [[1, 1, 5, 5], { kernelSize: 2, stride: 2, ceilMode: true }, [3, 3]],
      [[1, 1, 6, 6], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }, [4, 4]],
      [[1, 1, 6, 6], { kernelSize: 3, stride: 2, padding: 1 }, [3, 3]],
      [[1, 1, 5, 7], { kernelSize: 3, stride: 3, padding: 1, ceilMode: true }, [2, 3]],
    ];
    for (const [shape, opts, hw] of expected) {
      const g = pool2dGeometry(shape, opts);
      if (g.oh !== hw[0] || g.ow !== hw[1]) throw new Error(`[${shape}] ${JSON.stringify(opts)}: ${g.oh}×${g.ow}, PyTorch gives ${hw.join('×')}`);
    }
  });

  for (const op of ['max', 'avg'] as const) {
    const gpuOp = op === 'max' ? maxPool2d : avgPool2d;

    it(`${op}Pool2d matches the float64 reference in both layouts, with gradients`, async () => {
      for (const [k, [nchw, base]] of cases.entries()) {
        for (const dataFormat of formats) {
          const shape = toLayout(nchw, dataFormat);
          const opts = { ...base, dataFormat };
          const x = op === 'max' ? distinctValues(size(shape), k + 1) : randomValues(size(shape), k + 1, -2, 2);
          const got = await gpuValues(() => gpuOp(tensor(Float32Array.from(x), shape), opts));
          expectClose(got, pool2dRef(op, x, shape, opts), { atol: 1e-5, rtol: 1e-5 }, label(op, shape, opts));
          await gradCheck({
            inputs: [{ shape, values: x }],
            gpu: ([t]) => gpuOp(t!, opts),
            ref: ([v]) => pool2dRef(op, v!, shape, opts),
            tol: { atol: 2e-3, rtol: 2e-3 },
            label: label(op, shape, opts),
          });
        }
      }
    });

    it(`${op}Pool2d agrees between NCHW and NHWC after transposition`, async () => {
      const nchw = [2, 6, 9, 9];
      const x = randomValues(size(nchw), 31);
      const up = randomValues(2 * 6 * 5 * 5, 32);
      const opts = { kernelSize: 3, stride: 2, padding: 'SAME' as const };
      const run = async (f: DataFormat, xs: Float64Array, g: Float64Array) => {
        const t = tensor(Float32Array.from(xs), toLayout(nchw, f)).requireGrad();
        const y = gpuOp(t, { ...opts, dataFormat: f });
        y.backward(tensor(Float32Array.from(g), y.shape));
        const out = { y: await y.data(), dx: await t.grad!.data() };
        y.dispose(); t.dispose();
        return out;
      };
      const a = await run('NCHW', x, up);
      const b = await run('NHWC', nchwToNhwc(x, nchw), nchwToNhwc(up, [2, 6, 5, 5]));
      expectClose(nhwcToNchw(b.y, [2, 6, 5, 5]), a.y, { atol: 1e-6, rtol: 1e-6 }, `${op} output`);
      expectClose(nhwcToNchw(b.dx, nchw), a.dx, { atol: 1e-6, rtol: 1e-6 }, `${op} gradient`);
    });
  }

  it('maxPool2d sends the gradient to the first maximum on ties, as PyTorch', async () => {
    for (const [nchw, base] of [cases[0]!, cases[3]!, cases[5]!, cases[8]!, cases[9]!, cases[10]!, cases[11]!]) {
      for (const dataFormat of formats) {
        const shape = toLayout(nchw, dataFormat);
        const opts = { ...base, dataFormat };
        // Values from {0, 1, 2}: most windows hold several maxima.
        const r = new Random(7);
        const x = Float64Array.from({ length: size(shape) }, () => r.int(3));
        const t = tensor(Float32Array.from(x), shape).requireGrad();
        const y = maxPool2d(t, opts);
        const gy = randomValues(y.size, 8);
        y.backward(tensor(Float32Array.from(gy), y.shape));
        expectClose(await t.grad!.data(), maxPool2dGradRef(x, shape, opts, gy), { atol: 1e-5, rtol: 1e-5 }, `ties ${label('max', shape, opts)}`);
        y.dispose(); t.dispose();
      }
    }
  });

  it('globalAvgPool averages the spatial axes to [N, C] in both layouts, with gradients', async () => {
    for (const [k, nchw] of [[2, 3, 5, 5], [1, 8, 4, 4], [3, 6, 1, 1], [2, 12, 2, 3]].entries()) {
      for (const dataFormat of formats) {
        const shape = toLayout(nchw, dataFormat);
        const x = randomValues(size(shape), 50 + k, -2, 2);
        const got = await gpuValues(() => globalAvgPool(tensor(Float32Array.from(x), shape), { dataFormat }));
        expectClose(got, globalAvgPoolRef(x, shape, dataFormat), { atol: 1e-5, rtol: 1e-5 }, `globalAvgPool [${shape}] ${dataFormat}`);
        await gradCheck({
          inputs: [{ shape, values: x }],
          gpu: ([t]) => globalAvgPool(t!, { dataFormat }),
          ref: ([v]) => globalAvgPoolRef(v!, shape, dataFormat),
          tol: { atol: 2e-3, rtol: 2e-3 },
          label: `globalAvgPool [${shape}] ${dataFormat}`,
        });
      }
    }
  });

  it('rejects padding over half the window and windows that do not fit, naming the sizes', () => {
    const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const message = (f: () => Tensor): string => { try { f().dispose(); return ''; } catch (e) { return (e as Error).message; } };
    const tooMuchPad = message(() => maxPool2d(x, { kernelSize: 3, padding: 2 }));
    if (!tooMuchPad.includes('padding 2') || !tooMuchPad.includes('3')) throw new Error(`unexpected error: '${tooMuchPad}'`);
    const tooBig = message(() => avgPool2d(x, { kernelSize: 5, padding: 'VALID' }));
    if (!tooBig.includes('5') || !tooBig.includes('4')) throw new Error(`unexpected error: '${tooBig}'`);
    x.dispose();
  });
});

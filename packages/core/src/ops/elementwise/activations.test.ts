import { gelu, silu, leakyRelu, clamp, where } from './activations.js';
import { erf64, geluRef, geluTanhRef, siluRef, leakyReluRef, clampRef } from './activations-reference.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { broadcastShapes, broadcastStrides, stridesOf } from '../shape.js';
import type { Tensor } from '../../tensor.js';

const cases: Array<[string, (t: Tensor) => Tensor, (x: number) => number]> = [
  ['gelu', (t) => gelu(t), geluRef],
  ["gelu approximate 'tanh'", (t) => gelu(t, { approximate: 'tanh' }), geluTanhRef],
  ['silu', silu, siluRef],
  ['leakyRelu (default slope)', (t) => leakyRelu(t), leakyReluRef(0.01)],
  ['leakyRelu slope 0.2', (t) => leakyRelu(t, 0.2), leakyReluRef(0.2)],
  ['clamp [-0.5, 0.7]', (t) => clamp(t, -0.5, 0.7), clampRef(-0.5, 0.7)],
  ['clamp min only', (t) => clamp(t, 0.1), clampRef(0.1, Infinity)],
  ['clamp max only', (t) => clamp(t, undefined, -0.2), clampRef(-Infinity, -0.2)],
];

/** Keeps finite-difference points away from kinks (x = 0, clamp bounds). */
const awayFromKinks = (v: Float64Array): Float64Array =>
  v.map((x) => ([0, -0.5, 0.7, 0.1, -0.2].some((k) => Math.abs(x - k) < 0.02) ? x + 0.05 : x));

describe('activations', () => {
  it('the float64 erf reference matches known values', () => {
    // erf(0.5), erf(1), erf(2), erf(3.5) to 15 digits (Abramowitz & Stegun table 7.1 / mpmath)
    expectClose([erf64(0.5), erf64(1), erf64(-2), erf64(3.5)], [0.520499877813047, 0.842700792949715, -0.995322265018953, 0.999999256901628], { atol: 1e-14, rtol: 0 }, 'erf64');
  });

  it('gelu\'s float32 erf matches float64 erf over [-8, 8]', async () => {
    const x = Float64Array.from({ length: 1601 }, (_, i) => -8 + i / 100);
    expectClose(await gpuValues(() => gelu(tensor(Float32Array.from(x), [x.length]))), x.map(geluRef), { atol: 1e-6, rtol: 1e-6 }, 'gelu');
    // large |x| must neither overflow nor produce NaN
    const far = [-60, -20, 20, 60];
    expectClose(await gpuValues(() => gelu(tensor(far), { approximate: 'tanh' })), far.map(geluTanhRef), { atol: 1e-6, rtol: 1e-6 }, 'gelu tanh far');
  });

  for (const [name, op, ref] of cases) {
    it(`${name} matches the float64 reference and finite differences`, async () => {
      for (const [k, shape] of [[7], [3, 5], [2, 3, 4, 5]].entries()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = randomValues(n, 300 + k, -4, 4);
        expectClose(await gpuValues(() => op(tensor(Float32Array.from(x), shape))), x.map(ref), { atol: 2e-6, rtol: 1e-5 }, `${name} [${shape}]`);
      }
      await gradCheck({
        inputs: [{ shape: [4, 5], values: awayFromKinks(randomValues(20, 310, -3, 3)) }],
        gpu: ([t]) => op(t!),
        ref: ([v]) => v!.map(ref),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: name,
      });
    });
  }

  it('clamp rejects a call without bounds', () => {
    const x = tensor([1, 2]);
    let msg = '';
    try { clamp(x); } catch (e) { msg = (e as Error).message; }
    x.dispose();
    if (!msg.includes('clamp')) throw new Error(`unexpected error '${msg}'`);
  });

  const whereRef = (c: Float64Array, cs: number[], a: Float64Array, as: number[], b: Float64Array, bs: number[]): Float64Array => {
    const shape = broadcastShapes(broadcastShapes(cs, as), bs);
    const [sc, sa, sb] = [cs, as, bs].map((s) => broadcastStrides(s, shape));
    const so = stridesOf(shape);
    const out = new Float64Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < out.length; i++) {
      let [ic, ia, ib] = [0, 0, 0];
      shape.forEach((d, k) => {
        const coord = Math.floor(i / so[k]!) % d;
        ic += coord * sc![k]!; ia += coord * sa![k]!; ib += coord * sb![k]!;
      });
      out[i] = c[ic] !== 0 ? a[ia]! : b[ib]!;
    }
    return out;
  };

  it('where broadcasts condition and branches (f32 and int32 conditions) with gradients to each branch', async () => {
    const triples: Array<[number[], number[], number[]]> = [[[3, 4], [3, 4], [3, 4]], [[3, 1], [1, 4], [4]], [[4], [2, 3, 4], [1]], [[2, 1, 3], [3], [2, 4, 1]]];
    for (const [k, [cs, as, bs]] of triples.entries()) {
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const c = randomValues(size(cs), 400 + k).map((v) => (v > 0 ? 1 : 0));
      const a = randomValues(size(as), 410 + k);
      const b = randomValues(size(bs), 420 + k);
      const want = whereRef(c, cs, a, as, b, bs);
      for (const dtype of ['f32', 'i32'] as const) {
        const got = await gpuValues(() => where(tensor(dtype === 'f32' ? Float32Array.from(c) : Int32Array.from(c), cs, dtype), tensor(Float32Array.from(a), as), tensor(Float32Array.from(b), bs)));
        expectClose(got, want, { atol: 0, rtol: 1e-7 }, `where ${dtype} [${cs}] [${as}] [${bs}]`);
      }
      const cond = tensor(Int32Array.from(c), cs, 'i32');
      await gradCheck({
        inputs: [{ shape: as, values: a }, { shape: bs, values: b }],
        gpu: ([x, y]) => where(cond, x!, y!),
        ref: ([x, y]) => whereRef(c, cs, x!, as, y!, bs),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `where [${cs}] [${as}] [${bs}]`,
      });
      cond.dispose();
    }
  });
});

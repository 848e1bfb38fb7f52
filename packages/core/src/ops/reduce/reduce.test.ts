import { sum, mean, max, min, argmax, argmin } from './reduce.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { stridesOf } from '../shape.js';

/** float64 reference reduction over `axes` (sorted, non-negative). */
function reduceRef(x: Float64Array, shape: number[], axes: number[], f: 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin'): Float64Array {
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const nOut = kept.reduce((n, i) => n * shape[i]!, 1);
  const out = new Float64Array(nOut);
  const n = x.length;
  const acc = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (const d of kept) o = o * shape[d]! + (Math.floor(i / strides[d]!) % shape[d]!);
    let list = acc.get(o);
    if (!list) acc.set(o, (list = []));
    list.push(x[i]!);
  }
  for (let o = 0; o < nOut; o++) {
    const v = acc.get(o)!;
    if (f === 'sum') out[o] = v.reduce((a, b) => a + b, 0);
    else if (f === 'mean') out[o] = v.reduce((a, b) => a + b, 0) / v.length;
    else if (f === 'max') out[o] = Math.max(...v);
    else if (f === 'min') out[o] = Math.min(...v);
    else if (f === 'argmin') out[o] = v.indexOf(Math.min(...v));
    else out[o] = v.indexOf(Math.max(...v));
  }
  return out;
}

const cases: Array<[number[], number[]]> = [
  [[7], [0]], [[3, 5], [1]], [[3, 5], [0]], [[3, 5], [0, 1]], [[2, 3, 4], [0, 2]], [[2, 3, 4, 5], [1, 2, 3]], [[1, 1], [1]], [[4, 1, 3], [1]],
];

describe('reductions', () => {
  for (const f of ['sum', 'mean', 'max', 'min'] as const) {
    it(`${f} over any axes matches the reference, keepdims included, with gradients`, async () => {
      const op = { sum, mean, max, min }[f];
      for (const [k, [shape, axes]] of cases.entries()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = randomValues(n, 40 + k, -3, 3);
        const want = reduceRef(x, shape, axes, f);
        expectClose(await gpuValues(() => op(tensor(Float32Array.from(x), shape), axes)), want, { atol: 1e-5, rtol: 1e-5 }, `${f} [${shape}] axes ${axes}`);
        const kd = await gpuValues(() => op(tensor(Float32Array.from(x), shape), axes, true));
        expectClose(kd, want, { atol: 1e-5, rtol: 1e-5 }, `${f} keepdims`);
        await gradCheck({
          inputs: [{ shape, values: x }],
          gpu: ([t]) => op(t!, axes),
          ref: ([v]) => reduceRef(v!, shape, axes, f),
          tol: { atol: 3e-3, rtol: 3e-3 },
          label: `${f} [${shape}] axes ${axes}`,
        });
      }
    });
  }

  it('sum with no axes reduces everything; negative axes count from the end', async () => {
    const x = randomValues(24, 5);
    expectClose(await gpuValues(() => sum(tensor(Float32Array.from(x), [2, 3, 4]))), [x.reduce((a, b) => a + b, 0)], { atol: 1e-4, rtol: 1e-5 });
    expectClose(await gpuValues(() => sum(tensor(Float32Array.from(x), [2, 3, 4]), -1)), reduceRef(x, [2, 3, 4], [2], 'sum'), { atol: 1e-5, rtol: 1e-5 });
  });

  it('argmax returns int32 indices, the first on ties', async () => {
    for (const [k, [shape, axes]] of cases.filter(([, a]) => a.length === 1).entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randomValues(n, 70 + k);
      const got = await gpuValues(() => argmax(tensor(Float32Array.from(x), shape), axes[0]));
      if (!(got instanceof Int32Array)) throw new Error('argmax must return int32');
      expectClose(got, reduceRef(x, shape, axes, 'argmax'), { atol: 0, rtol: 0 }, `argmax [${shape}]`);
    }
    expectClose(await gpuValues(() => argmax(tensor([[1, 3, 3], [2, 2, 1]]), 1)), [1, 0], { atol: 0, rtol: 0 });
  });

  it('argmin returns int32 indices (the first on ties); argmax/argmin with axis null index the flattened tensor', async () => {
    for (const [k, [shape, axes]] of cases.filter(([, a]) => a.length === 1).entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randomValues(n, 90 + k);
      const got = await gpuValues(() => argmin(tensor(Float32Array.from(x), shape), axes[0], true));
      if (!(got instanceof Int32Array)) throw new Error('argmin must return int32');
      expectClose(got, reduceRef(x, shape, axes, 'argmin'), { atol: 0, rtol: 0 }, `argmin [${shape}]`);
    }
    expectClose(await gpuValues(() => argmin(tensor([[1, 0, 0], [2, -1, -1]]), 1)), [1, 1], { atol: 0, rtol: 0 });
    const x = randomValues(24, 99);
    const flat = (f: 'argmax' | 'argmin') => reduceRef(x, [24], [0], f);
    expectClose(await gpuValues(() => argmax(tensor(Float32Array.from(x), [2, 3, 4]), null)), flat('argmax'), { atol: 0, rtol: 0 }, 'argmax null');
    expectClose(await gpuValues(() => argmin(tensor(Float32Array.from(x), [2, 3, 4]), null)), flat('argmin'), { atol: 0, rtol: 0 }, 'argmin null');
    const kd = tidyShape(() => argmax(tensor(Float32Array.from(x), [2, 3, 4]), 1, true));
    if (kd !== '2,1,4') throw new Error(`argmax keepDims shape [${kd}]`);
  });
});

function tidyShape(f: () => { shape: readonly number[]; dispose(): void }): string {
  const t = f();
  const s = t.shape.join();
  t.dispose();
  return s;
}

import { gather, indexSelect, embedding } from './gather.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { stridesOf } from '../shape.js';
import { Random } from '../../random.js';

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** torch.gather in float64: out[c] = x[c with c[axis] = index[c]]. */
function gatherRef(x: Float64Array, xShape: number[], axis: number, index: Int32Array, indexShape: number[]): Float64Array {
  const xs = stridesOf(xShape);
  const is = stridesOf(indexShape);
  return Float64Array.from(index, (k, i) => {
    let off = 0;
    indexShape.forEach((_, d) => { off += (d === axis ? k : Math.floor(i / is[d]!) % indexShape[d]!) * xs[d]!; });
    return x[off]!;
  });
}

function indexSelectRef(x: Float64Array, xShape: number[], axis: number, index: Int32Array): Float64Array {
  const outShape = xShape.map((d, i) => (i === axis ? index.length : d));
  const os = stridesOf(outShape);
  const xs = stridesOf(xShape);
  const out = new Float64Array(size(outShape));
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    outShape.forEach((d, k) => {
      const c = Math.floor(i / os[k]!) % d;
      off += (k === axis ? index[c]! : c) * xs[k]!;
    });
    out[i] = x[off]!;
  }
  return out;
}

const randomIndex = (n: number, hi: number, seed: number): Int32Array => {
  const r = new Random(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r.uniform(0, hi)));
};

describe('gather, indexSelect, embedding', () => {
  it('gather matches torch.gather along each axis, with repeated indices accumulating gradients', async () => {
    const cases: Array<[number[], number, number[]]> = [[[5], 0, [8]], [[3, 4], 0, [6, 4]], [[3, 4], 1, [3, 7]], [[2, 3, 4], 1, [2, 5, 3]], [[2, 3, 4], 2, [1, 2, 6]]];
    for (const [k, [xShape, axis, indexShape]] of cases.entries()) {
      const x = randomValues(size(xShape), 500 + k);
      const index = randomIndex(size(indexShape), xShape[axis]!, 510 + k);
      const idx = tensor(index, indexShape, 'i32');
      expectClose(await gpuValues(() => gather(tensor(Float32Array.from(x), xShape), axis, idx)), gatherRef(x, xShape, axis, index, indexShape), { atol: 0, rtol: 1e-7 }, `gather [${xShape}] axis ${axis}`);
      await gradCheck({
        inputs: [{ shape: xShape, values: x }],
        gpu: ([t]) => gather(t!, axis, idx),
        ref: ([v]) => gatherRef(v!, xShape, axis, index, indexShape),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `gather [${xShape}] axis ${axis}`,
      });
      idx.dispose();
    }
  });

  it('indexSelect matches torch.index_select along each axis, negative axes included', async () => {
    const cases: Array<[number[], number, number]> = [[[6], 0, 9], [[5, 3], 0, 7], [[3, 5], -1, 4], [[2, 4, 3], 1, 6]];
    for (const [k, [xShape, axis, n]] of cases.entries()) {
      const ax = axis < 0 ? axis + xShape.length : axis;
      const x = randomValues(size(xShape), 520 + k);
      const index = randomIndex(n, xShape[ax]!, 530 + k);
      const idx = tensor(index, [n], 'i32');
      expectClose(await gpuValues(() => indexSelect(tensor(Float32Array.from(x), xShape), axis, idx)), indexSelectRef(x, xShape, ax, index), { atol: 0, rtol: 1e-7 }, `indexSelect [${xShape}] axis ${axis}`);
      await gradCheck({
        inputs: [{ shape: xShape, values: x }],
        gpu: ([t]) => indexSelect(t!, axis, idx),
        ref: ([v]) => indexSelectRef(v!, xShape, ax, index),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `indexSelect [${xShape}] axis ${axis}`,
      });
      idx.dispose();
    }
  });

  it('embedding gives [...indices.shape, dim] and scatters gradients into the rows read', async () => {
    const [vocab, dim] = [7, 5];
    const w = randomValues(vocab * dim, 540);
    const index = randomIndex(12, vocab, 541);
    const idx = tensor(index, [3, 4], 'i32');
    const out = await gpuValues(() => embedding(idx, tensor(Float32Array.from(w), [vocab, dim])));
    expectClose(out, indexSelectRef(w, [vocab, dim], 0, index), { atol: 0, rtol: 1e-7 }, 'embedding');
    await gradCheck({
      inputs: [{ shape: [vocab, dim], values: w }],
      gpu: ([t]) => {
        const e = embedding(idx, t!);
        if (e.shape.join() !== '3,4,5') throw new Error(`embedding shape [${e.shape}]`);
        return e;
      },
      ref: ([v]) => indexSelectRef(v!, [vocab, dim], 0, index),
      tol: { atol: 2e-3, rtol: 2e-3 },
      label: 'embedding',
    });
    idx.dispose();
  });

  it('rejects a float index and mismatched ranks with one line', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const fIdx = tensor([0, 1]);
    const iIdx = tensor(Int32Array.from([0, 1]), [2], 'i32');
    const messages: string[] = [];
    for (const f of [() => indexSelect(x, 0, fIdx), () => gather(x, 0, iIdx)]) {
      try { f(); messages.push(''); } catch (e) { messages.push((e as Error).message); }
    }
    for (const t of [x, fIdx, iIdx]) t.dispose();
    if (!messages[0]!.includes('int32') || !messages[1]!.includes('rank')) throw new Error(`unexpected errors: ${JSON.stringify(messages)}`);
  });
});

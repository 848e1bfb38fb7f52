import { reshape, flatten, permute, transpose, concat, slice, pad, stack, split } from './shape-ops.js';
import { stridesOf } from '../shape.js';
import { permuteRef, sliceRef, padRef, concatRef } from './reference.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';

const EXACT = { atol: 0, rtol: 0 };
const GRAD_TOL = { atol: 1e-3, rtol: 1e-3 };
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f32 = (v: Float64Array) => Float32Array.from(v);
/** Random values that are exact in f32, so data movement can be compared bit for bit. */
const exactValues = (n: number, seed: number) => Float64Array.from(f32(randomValues(n, seed)));

async function expectThrows(fn: () => unknown, includes: string): Promise<void> {
  let msg = '';
  try { fn(); } catch (e) { msg = (e as Error).message; }
  if (!msg.includes(includes)) throw new Error(`expected an error mentioning '${includes}', got '${msg}'`);
}

describe('shape ops', () => {
  it('reshape is a view sharing storage (no copy), resolves -1 and passes gradients through', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = reshape(x, [-1, 2]);
    if (y.storage !== x.storage) throw new Error('reshape copied its input');
    if (y.shape.join() !== '3,2') throw new Error(`reshape gave [${y.shape}]`);
    const f = flatten(tensor(new Float32Array(24), [2, 3, 2, 2]));
    if (f.shape.join() !== '2,12') throw new Error(`flatten gave [${f.shape}]`);
    if (flatten(f, 0).shape.join() !== '24') throw new Error('flatten(x, 0) must give one axis');
    await expectThrows(() => reshape(x, [4, -1]), '[2,3]');
    await expectThrows(() => reshape(x, [-1, -1]), 'invalid');
    expectClose(await y.data(), [1, 2, 3, 4, 5, 6], EXACT);
    x.dispose(); y.dispose(); f.dispose();
    const v = exactValues(12, 1);
    await gradCheck({
      inputs: [{ shape: [3, 4], values: v }], gpu: ([t]) => reshape(t!, [2, -1, 3]), ref: ([a]) => a!, tol: GRAD_TOL, label: 'reshape',
    });
  });

  const perms: Array<[number[], number[]]> = [
    [[2, 3], [1, 0]], [[2, 3, 4, 5], [0, 2, 3, 1]], [[2, 3, 4, 5], [0, 3, 1, 2]], [[3, 1, 4], [2, 0, 1]], [[5], [0]], [[4, 2, 3], [0, 1, 2]], [[1, 7, 1, 3], [3, 2, 1, 0]],
    // NCHW → NHWC with 72 channels: y written as vec4 over more than one run per pixel
    [[2, 72, 3, 2], [0, 2, 3, 1]],
  ];

  it('permute matches the reference, inverts back, and routes gradients', async () => {
    for (const [k, [shape, dims]] of perms.entries()) {
      const v = exactValues(sizeOf(shape), 10 + k);
      expectClose(await gpuValues(() => permute(tensor(f32(v), shape), dims)), permuteRef(v, shape, dims), EXACT, `permute [${shape}] by [${dims}]`);
      const inverse = dims.map((_, i) => dims.indexOf(i));
      expectClose(await gpuValues(() => permute(permute(tensor(f32(v), shape), dims), inverse)), f32(v), EXACT, 'permute round trip');
      await gradCheck({
        inputs: [{ shape, values: v }], gpu: ([t]) => permute(t!, dims), ref: ([a]) => permuteRef(a!, shape, dims), tol: GRAD_TOL, label: `permute [${dims}]`,
      });
    }
    await expectThrows(() => permute(tensor([1, 2], [1, 2]), [0, 0]), 'not a permutation');
  });

  it('transpose swaps the last two axes by default, or the named ones', async () => {
    const v = exactValues(24, 3);
    expectClose(await gpuValues(() => transpose(tensor(f32(v.subarray(0, 6)), [2, 3]))), permuteRef(v.subarray(0, 6), [2, 3], [1, 0]), EXACT, '2-D');
    expectClose(await gpuValues(() => transpose(tensor(f32(v), [2, 3, 4]))), permuteRef(v, [2, 3, 4], [0, 2, 1]), EXACT, 'last two');
    expectClose(await gpuValues(() => transpose(tensor(f32(v), [2, 3, 4]), 0, 2)), permuteRef(v, [2, 3, 4], [2, 1, 0]), EXACT, 'axes 0, 2');
  });

  it('concat along every axis matches the reference (channel counts not divisible by 4 included) with gradients', async () => {
    const base = [2, 3, 5, 2];
    for (let axis = 0; axis < base.length; axis++) {
      const extents = [1, 3, 6];
      const shapes = extents.map((e) => base.map((d, i) => (i === axis ? e : d)));
      const vals = shapes.map((s, k) => exactValues(sizeOf(s), 20 + 3 * axis + k));
      const got = await gpuValues(() => concat(shapes.map((s, k) => tensor(f32(vals[k]!), s)), axis));
      expectClose(got, concatRef(vals, shapes, axis), EXACT, `concat axis ${axis}`);
      await gradCheck({
        inputs: shapes.map((s, k) => ({ shape: s, values: vals[k]! })),
        gpu: (ts) => concat(ts, axis), ref: (vs) => concatRef(vs, shapes, axis), tol: GRAD_TOL, label: `concat axis ${axis}`,
      });
    }
    // NCHW fire-module style channel concats (negative axis): small slabs go through the vec4
    // kernel, large ones through one buffer copy per slab
    for (const [k, shapes] of [[[2, 16, 3, 3], [2, 16, 3, 3]], [[2, 16, 8, 8], [2, 24, 8, 8]]].entries()) {
      const vals = shapes.map((s, j) => exactValues(sizeOf(s), 40 + 2 * k + j));
      expectClose(await gpuValues(() => concat(shapes.map((s, j) => tensor(f32(vals[j]!), s)), -3)), concatRef(vals, shapes, 1), EXACT, `concat [${shapes[0]}], [${shapes[1]}]`);
    }
    await expectThrows(() => concat([tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(4), [4, 1])], 0), 'differ');
  });

  it('slice and pad match the references, invert each other, and have gradients', async () => {
    const cases: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
      { shape: [7], begin: [2], size: [3] },
      { shape: [4, 5], begin: [1, 0], size: [2, -1] },
      { shape: [2, 3, 4, 5], begin: [0, 1, 1, 2], size: [-1, 2, 2, 3] },
      { shape: [2, 8, 4, 4], begin: [1, 4, 0, 0], size: [1, 4, -1, -1] },
      { shape: [3, 3], begin: [1, 1], size: [0, 2] },
      { shape: [2, 8, 16, 16], begin: [0, 2, 0, 0], size: [-1, 4, -1, -1] }, // slabs of 1024: buffer copies
    ];
    for (const [k, { shape, begin, size }] of cases.entries()) {
      const v = exactValues(sizeOf(shape), 50 + k);
      const want = sliceRef(v, shape, begin, size);
      expectClose(await gpuValues(() => slice(tensor(f32(v), shape), begin, size)), want, EXACT, `slice [${shape}] at [${begin}] size [${size}]`);
      if (want.length > 0) {
        await gradCheck({
          inputs: [{ shape, values: v }], gpu: ([t]) => slice(t!, begin, size), ref: ([a]) => sliceRef(a!, shape, begin, size), tol: GRAD_TOL, label: `slice [${shape}]`,
        });
      }
    }
    const padCases: Array<{ shape: number[]; paddings: Array<[number, number]>; value: number }> = [
      { shape: [3], paddings: [[2, 1]], value: 0 },
      { shape: [2, 3, 4, 4], paddings: [[0, 0], [0, 0], [1, 1], [2, 0]], value: -1.5 },
      { shape: [1, 5, 1, 1], paddings: [[0, 1], [3, 0], [0, 0], [1, 1]], value: 0 },
      { shape: [2, 2, 3], paddings: [[0, 0], [1, 0], [0, 0]], value: 7 },
    ];
    for (const [k, { shape, paddings, value }] of padCases.entries()) {
      const v = exactValues(sizeOf(shape), 60 + k);
      expectClose(await gpuValues(() => pad(tensor(f32(v), shape), paddings, value)), padRef(v, shape, paddings, value), EXACT, `pad [${shape}] by ${JSON.stringify(paddings)}`);
      const back = await gpuValues(() => slice(pad(tensor(f32(v), shape), paddings, value), paddings.map((p) => p[0]), shape));
      expectClose(back, f32(v), EXACT, 'slice(pad(x)) round trip');
      await gradCheck({
        inputs: [{ shape, values: v }], gpu: ([t]) => pad(t!, paddings, value), ref: ([a]) => padRef(a!, shape, paddings, value), tol: GRAD_TOL, label: `pad [${shape}]`,
      });
    }
    await expectThrows(() => slice(tensor(new Float32Array(4), [2, 2]), [1, 0], [2, 1]), 'out of range');
  });

  it('moves int32 tensors bit-exactly', async () => {
    const labels = Int32Array.from([3, -1, 0, 9, 2147483647, -2147483648]);
    const t = () => tensor(labels, [2, 3]);
    const got = await gpuValues(() => concat([slice(t(), [0, 1], [2, 2]), permute(t(), [1, 0]).view([2, 3])], 1));
    if (!(got instanceof Int32Array)) throw new Error('dtype was lost');
    // 2147483647 is a NaN bit pattern and -2147483648 is -0 as f32: both must survive unchanged
    const max = 2147483647, min = -2147483648;
    expectClose(got, [-1, 0, 3, 9, -1, max, min, max, 0, min], EXACT, 'int32 slice/permute/concat');
  });

  /** torch.stack in float64: output coordinate c reads tensor c[axis] at c without that axis. */
  const stackRef = (xs: Float64Array[], shape: number[], axis: number): Float64Array => {
    const outShape = [...shape.slice(0, axis), xs.length, ...shape.slice(axis)];
    const os = stridesOf(outShape);
    const is = stridesOf(shape);
    return Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = outShape.map((d, k) => Math.floor(i / os[k]!) % d);
      const which = c.splice(axis, 1)[0]!;
      return xs[which]![c.reduce((o, v, k) => o + v * is[k]!, 0)]!;
    });
  };

  it('stack joins along a new axis (any position, negative included) with gradients to every input', async () => {
    const shape = [2, 3];
    for (const axis of [0, 1, 2, -1]) {
      const ax = axis < 0 ? axis + 3 : axis;
      const xs = [0, 1, 2].map((k) => exactValues(6, 60 + k));
      const got = await gpuValues(() => stack(xs.map((v) => tensor(f32(v), shape)), axis));
      expectClose(got, stackRef(xs, shape, ax), EXACT, `stack axis ${axis}`);
      await gradCheck({
        inputs: xs.map((v) => ({ shape, values: v })),
        gpu: (ts) => stack(ts, axis),
        ref: (vs) => stackRef(vs, shape, ax),
        tol: GRAD_TOL,
        label: `stack axis ${axis}`,
      });
    }
  });

  it('split into equal pieces (the last shorter) or listed sections matches slices, with gradients; bad sections are rejected', async () => {
    const shape = [4, 7];
    const x = exactValues(28, 70);
    for (const [arg, axis, sizes] of [[3, 1, [3, 3, 1]], [[1, 0, 3], 0, [1, 0, 3]], [2, -2, [2, 2]]] as const) {
      const ax = axis < 0 ? axis + 2 : axis;
      const pieces = split(tensor(f32(x), shape), arg, axis);
      if (pieces.map((p) => p.shape[ax]).join() !== sizes.join()) throw new Error(`split ${JSON.stringify(arg)}: sizes ${pieces.map((p) => p.shape[ax])}`);
      let at = 0;
      for (const [i, p] of pieces.entries()) {
        const begin = ax === 0 ? [at, 0] : [0, at];
        const size = ax === 0 ? [sizes[i]!, 7] : [4, sizes[i]!];
        expectClose(await p.data(), sliceRef(x, shape, begin, size), EXACT, `piece ${i}`);
        at += sizes[i]!;
        p.dispose();
      }
      // each piece weighted differently: the gradient reassembles them in place
      await gradCheck({
        inputs: [{ shape, values: x }],
        gpu: ([t]) => concat(split(t!, arg, axis).map((p) => reshape(p, [-1])), 0),
        ref: ([v]) => {
          let pos = 0;
          const parts = sizes.map((s) => {
            const begin = ax === 0 ? [pos, 0] : [0, pos];
            const size = ax === 0 ? [s, 7] : [4, s];
            pos += s;
            return sliceRef(v!, shape, begin, size);
          });
          return Float64Array.from(parts.flatMap((q) => [...q]));
        },
        tol: GRAD_TOL,
        label: `split ${JSON.stringify(arg)}`,
      });
    }
    const t = tensor(f32(x), shape);
    let msg = '';
    try { split(t, [3, 3], 1); } catch (e) { msg = (e as Error).message; }
    t.dispose();
    if (!msg.includes('[3,3]') || !msg.includes('7')) throw new Error(`unexpected error '${msg}'`);
  });
});

import { fillKernel, linearWorkgroups, ELEMENTWISE_WG } from '@squeeze/kernels-wgsl';
import { allocTensor, sizeOf, Tensor, type DType, type Shape } from '../../tensor.js';
import { getRuntime } from '../../runtime/global.js';
import { Random } from '../../random.js';

type Nested = number | Nested[];

function flatten(values: Nested, shape: number[], depth = 0, out: number[] = []): number[] {
  if (Array.isArray(values)) {
    if (shape.length === depth) shape.push(values.length);
    else if (shape[depth] !== values.length) throw new Error('ragged nested array: every row must have the same length');
    for (const v of values) flatten(v, shape, depth + 1, out);
  } else {
    if (depth !== shape.length) throw new Error('ragged nested array: mixed numbers and arrays');
    out.push(values);
  }
  return out;
}

/** A tensor from numbers, nested arrays or a typed array (with `shape`). */
export function tensor(values: Nested | ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let s: number[];
  if (typeof values === 'number' || Array.isArray(values)) {
    s = [];
    flat = flatten(values as Nested, s);
    if (shape) { if (sizeOf(shape) !== flat.length) throw new Error(`${flat.length} values do not fill shape [${shape}]`); s = [...shape]; }
  } else {
    flat = values;
    s = shape ? [...shape] : [values.length];
    if (sizeOf(s) !== flat.length) throw new Error(`${flat.length} values do not fill shape [${s}]`);
  }
  const dt: DType = dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
  const t = allocTensor(s, dt);
  if (dt === 'i32') {
    const values = Int32Array.from(flat);
    if (flat.length > 0) getRuntime().write(t, values);
    t.hostValues = values;
  } else if (flat.length > 0) getRuntime().write(t, Float32Array.from(flat));
  return t;
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  const t = allocTensor(shape, dtype);
  const n = dtype === 'f32' ? Math.ceil(t.size / 4) : t.size;
  getRuntime().run(fillKernel, { type: dtype }, [t], { n4: n, value }, linearWorkgroups(n, ELEMENTWISE_WG));
  return t;
}

export const zeros = (shape: Shape): Tensor => full(shape, 0);
export const ones = (shape: Shape): Tensor => full(shape, 1);
export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0);
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1);

/** Normal(mean, std) values from a seeded generator (reproducible). */
export function randn(shape: Shape, opts: { seed?: number; rng?: Random; mean?: number; std?: number } = {}): Tensor {
  const rng = opts.rng ?? new Random(opts.seed ?? Date.now());
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = (opts.mean ?? 0) + (opts.std ?? 1) * rng.normal();
  return tensor(v, shape);
}

/** Uniform [low, high) values from a seeded generator (reproducible). */
export function rand(shape: Shape, opts: { seed?: number; rng?: Random; low?: number; high?: number } = {}): Tensor {
  const rng = opts.rng ?? new Random(opts.seed ?? Date.now());
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(opts.low ?? 0, opts.high ?? 1);
  return tensor(v, shape);
}

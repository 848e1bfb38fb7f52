import type { Shape } from '../tensor.js';

/** The least multiple of `step` that is ≥ n (a size padded to whole tiles or vec4s). */
export const roundUp = (n: number, step: number): number => Math.ceil(n / step) * step;

/** Row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

/** NumPy broadcasting of two shapes; throws naming both shapes when incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] cannot be broadcast together`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` read as `outShape` under broadcasting (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : strides[i - off]!));
}

/** Normalises possibly negative axes (Python style); undefined = all axes. */
export function normaliseAxes(axes: number | number[] | undefined, rank: number): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : Array.isArray(axes) ? axes : [axes];
  const out = list.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank || !Number.isInteger(n)) throw new Error(`axis ${a} is out of range for rank ${rank}`);
    return n;
  });
  return [...new Set(out)].sort((x, y) => x - y);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

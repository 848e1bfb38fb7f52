import { stridedCopyKernel, padKernel, linearWorkgroups, LAYOUT_WG, MAX_RANK, STRIDED_COPY_RUN, type StridedCopyMode } from '@squeeze/kernels-wgsl';
import { allocTensor, sizeOf, type Shape, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { normaliseAxes, stridesOf } from '../shape.js';

// ── reshape family: views sharing storage ─────────────────────────────────────────────────────

/** Resolves one -1 in `shape` so that it holds `size` elements. */
function resolveShape(shape: readonly number[], size: number, from: Shape): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) throw new Error(`reshape: invalid target shape [${shape}]`);
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (sizeOf(out) !== size || out.some((d) => !Number.isInteger(d))) throw new Error(`reshape: cannot reshape [${from}] (${size} elements) to [${shape}]`);
  return out;
}

/** The same elements under another shape (one axis may be -1); a view: no copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const y = x.view(resolveShape(shape, x.size, x.shape));
  return record(y, 'reshape', [x], [], (g) => [g.view(x.shape)]);
}

/** Merges axes startDim.. into one: [N, C, H, W] → [N, C·H·W] for startDim 1. A view. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const [start] = normaliseAxes(startDim, x.rank);
  return reshape(x, [...x.shape.slice(0, start), sizeOf(x.shape.slice(start))]);
}

// ── strided copies ────────────────────────────────────────────────────────────────────────────

interface CopyPlan { shape: number[]; xStrides: number[]; yStrides: number[] }

/**
 * Drops size-1 axes and merges neighbouring axes that are contiguous on both sides, so that e.g.
 * a channel concat of NCHW tensors becomes a copy of [N, C·H·W] slabs (and can use vec4s).
 */
function coalesce(shape: readonly number[], xStrides: readonly number[], yStrides: readonly number[]): CopyPlan {
  const plan: CopyPlan = { shape: [], xStrides: [], yStrides: [] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = plan.shape.length - 1;
    if (last >= 0 && plan.xStrides[last] === xStrides[d]! * shape[d]! && plan.yStrides[last] === yStrides[d]! * shape[d]!) {
      plan.shape[last]! *= shape[d]!;
      plan.xStrides[last] = xStrides[d]!;
      plan.yStrides[last] = yStrides[d]!;
    } else {
      plan.shape.push(shape[d]!);
      plan.xStrides.push(xStrides[d]!);
      plan.yStrides.push(yStrides[d]!);
    }
  }
  return plan;
}

/**
 * Slabs of at least this many contiguous elements are moved with one buffer copy each instead of
 * the copy kernel. Measured on lavapipe, channel concat of two [64, 64, 15, 15] tensors: 128 slab
 * copies ≈ 2.2 ms against ≈ 8.8 ms for the vec4 kernel (≈ 17 µs per copy command, the kernel
 * moving ≈ 1 GB/s), so copies win from slabs of a few KiB.
 */
const MIN_SLAB_FOR_BUFFER_COPIES = 1024;

/** y[yOffset + c·yStrides] = x[xOffset + c·xStrides] over `shape` (element units). */
function stridedCopy(
  x: Tensor, y: Tensor, shape: readonly number[],
  xStrides: readonly number[], yStrides: readonly number[], xOffset = 0, yOffset = 0,
): void {
  const rt = x.runtime;
  const plan = coalesce(shape, xStrides, yStrides);
  const n = sizeOf(plan.shape);
  if (n === 0) return;
  const rank = plan.shape.length;
  if (rank === 0 || (rank === 1 && plan.xStrides[0] === 1 && plan.yStrides[0] === 1)) {
    rt.copy(x, y, n * 4, xOffset * 4, yOffset * 4); // one contiguous block: a plain buffer copy
    return;
  }
  if (rank === 2 && plan.xStrides[1] === 1 && plan.yStrides[1] === 1 && plan.shape[1]! >= MIN_SLAB_FOR_BUFFER_COPIES) {
    // contiguous slabs (a channel concat or slice of NCHW tensors): one buffer copy per slab
    const slab = plan.shape[1]!;
    for (let s = 0; s < plan.shape[0]!; s++) {
      rt.copy(x, y, slab * 4, (xOffset + s * plan.xStrides[0]!) * 4, (yOffset + s * plan.yStrides[0]!) * 4);
    }
    return;
  }
  if (rank > MAX_RANK) throw new Error(`strided copy: rank ${rank} exceeds ${MAX_RANK}`);
  // vec4 paths only for f32 (i32 goes through u32 so that every bit pattern is copied exactly): y
  // contiguous along the innermost axis in whole vec4s, and x too ('vec4') or strided ('gatherVec4',
  // a transpose).
  const yVec4 = x.dtype === 'f32' && plan.yStrides[rank - 1] === 1 && plan.shape[rank - 1]! % 4 === 0
    && [...plan.yStrides.slice(0, -1), yOffset].every((v) => v % 4 === 0);
  const xInner = plan.xStrides[rank - 1]!;
  const xVec4 = xInner === 1 && [...plan.xStrides.slice(0, -1), xOffset].every((v) => v % 4 === 0);
  const mode: StridedCopyMode = !yVec4 ? 'scalar' : xVec4 ? 'vec4' : 'gatherVec4';
  const q = yVec4 ? 4 : 1;
  const shapeQ = [...plan.shape.slice(0, -1), plan.shape[rank - 1]! / q];
  const count = n / q;
  const last = (s: number[]) => [...s.slice(0, -1).map((v) => v / q), s[rank - 1]!];
  const runsPerRow = Math.ceil(shapeQ[rank - 1]! / STRIDED_COPY_RUN);
  const runs = (count / shapeQ[rank - 1]!) * runsPerRow;
  const gather = mode === 'gatherVec4';
  rt.run(stridedCopyKernel, { mode, rank }, [x, y], {
    shape: shapeQ,
    // gatherVec4: x keeps element units, its innermost stride per vec4 of y
    xStrides: gather ? [...plan.xStrides.slice(0, -1), 4 * xInner] : last(plan.xStrides),
    yStrides: last(plan.yStrides), n: runs, runsPerRow,
    xOffset: gather ? xOffset : xOffset / q, yOffset: yOffset / q,
  }, linearWorkgroups(runs, LAYOUT_WG));
}

// ── permute / transpose ───────────────────────────────────────────────────────────────────────

/** Reorders axes: output axis i is input axis dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const rank = x.rank;
  const normal = dims.map((d) => (d < 0 ? d + rank : d));
  if (dims.length !== rank || new Set(normal).size !== rank || normal.some((d) => !Number.isInteger(d) || d < 0 || d >= rank)) {
    throw new Error(`permute: [${dims}] is not a permutation of the ${rank} axes of [${x.shape}]`);
  }
  const xStrides = stridesOf(x.shape);
  const outShape = normal.map((d) => x.shape[d]!);
  const y = allocTensor(outShape, x.dtype);
  stridedCopy(x, y, outShape, normal.map((d) => xStrides[d]!), stridesOf(outShape));
  const inverse = new Array<number>(rank);
  normal.forEach((d, i) => { inverse[d] = i; });
  return record(y, 'permute', [x], [], (g) => [permute(g, inverse)]);
}

/** Swaps two axes (default the last two: the matrix transpose for 2-D). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.rank < 2) throw new Error(`transpose: needs at least 2 axes, got [${x.shape}]`);
  const [a, b] = [dim0, dim1].map((d) => normaliseAxes(d, x.rank)[0]!) as [number, number];
  const dims = [...x.shape.keys()];
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

// ── slice / pad ───────────────────────────────────────────────────────────────────────────────

/** The block starting at `begin` of extent `size` (-1 = to the end) along every axis. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`slice: begin [${begin}] and size [${size}] must have one entry per axis of [${x.shape}]`);
  }
  const extent = size.map((s, d) => (s === -1 ? x.shape[d]! - begin[d]! : s));
  if (extent.some((s, d) => !Number.isInteger(s) || !Number.isInteger(begin[d]) || s < 0 || begin[d]! < 0 || begin[d]! + s > x.shape[d]!)) {
    throw new Error(`slice: begin [${begin}] size [${size}] is out of range for [${x.shape}]`);
  }
  const xStrides = stridesOf(x.shape);
  const y = allocTensor(extent, x.dtype);
  const xOffset = begin.reduce((o, b, d) => o + b * xStrides[d]!, 0);
  stridedCopy(x, y, extent, xStrides, stridesOf(extent), xOffset);
  const after = x.shape.map((d, i) => d - begin[i]! - extent[i]!);
  return record(y, 'slice', [x], [], (g) => [pad(g, begin.map((b, i) => [b, after[i]!] as [number, number]))]);
}

/** Constant padding: `paddings[d] = [before, after]` elements along axis d. */
export function pad(x: Tensor, paddings: ReadonlyArray<readonly [number, number]>, value = 0): Tensor {
  if (x.dtype !== 'f32') throw new Error(`pad: needs an f32 tensor, got ${x.dtype}`);
  if (paddings.length !== x.rank || paddings.some((p) => p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new Error(`pad: need one [before, after] pair of non-negative integers per axis of [${x.shape}], got ${JSON.stringify(paddings)}`);
  }
  const outShape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const y = allocTensor(outShape);
  // Merge each unpadded axis into the one before it (its padding scales by the merged extent).
  const inShape: number[] = [];
  const before: number[] = [];
  const merged: number[] = [];
  x.shape.forEach((d, i) => {
    const [b, a] = paddings[i]!;
    const last = inShape.length - 1;
    if (last >= 0 && b === 0 && a === 0) {
      inShape[last]! *= d;
      before[last]! *= d;
      merged[last]! *= d;
    } else {
      inShape.push(d);
      before.push(b);
      merged.push(d + b + a);
    }
  });
  if (inShape.length > MAX_RANK) throw new Error(`pad: rank ${inShape.length} exceeds ${MAX_RANK}`);
  if (y.size > 0) {
    x.runtime.run(padKernel, {}, [x, y], {
      outShape: merged, inShape, before, n: y.size, rank: inShape.length, value,
    }, linearWorkgroups(y.size, LAYOUT_WG));
  }
  return record(y, 'pad', [x], [], (g) => [slice(g, paddings.map((p) => p[0]), x.shape)]);
}

// ── concat ────────────────────────────────────────────────────────────────────────────────────

/** Joins tensors along `axis`; every other axis must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0]!;
  const [ax] = normaliseAxes(axis, first.rank) as [number];
  for (const x of xs) {
    if (x.rank !== first.rank || x.dtype !== first.dtype || x.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat along axis ${axis}: shapes ${xs.map((t) => `[${t.shape}]${t.dtype}`).join(', ')} differ off that axis`);
    }
  }
  const outShape = [...first.shape];
  outShape[ax] = xs.reduce((n, x) => n + x.shape[ax]!, 0);
  const y = allocTensor(outShape, first.dtype);
  const yStrides = stridesOf(outShape);
  const begins: number[] = [];
  let at = 0;
  for (const x of xs) {
    begins.push(at);
    stridedCopy(x, y, x.shape, stridesOf(x.shape), yStrides, 0, at * yStrides[ax]!);
    at += x.shape[ax]!;
  }
  return record(y, 'concat', [...xs], [], (g, _saved, needs) => xs.map((x, i) => {
    if (!needs[i]) return null;
    const begin = outShape.map((_, d) => (d === ax ? begins[i]! : 0));
    return slice(g, begin, x.shape);
  }));
}

// ── stack / split ─────────────────────────────────────────────────────────────────────────────

/** Joins tensors of one shape along a new axis `axis` (torch.stack). */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const first = xs[0]!;
  if (xs.some((x) => x.rank !== first.rank || x.shape.some((d, i) => d !== first.shape[i]))) {
    throw new Error(`stack: shapes ${xs.map((t) => `[${t.shape}]`).join(', ')} differ`);
  }
  const [ax] = normaliseAxes(axis, first.rank + 1) as [number];
  const shape = [...first.shape.slice(0, ax), 1, ...first.shape.slice(ax)];
  return concat(xs.map((x) => reshape(x, shape)), ax);
}

/**
 * Splits along `axis` (torch.split): into pieces of `sizeOrSections` elements (the last may be
 * shorter), or of the listed sizes, which must add up to the axis's extent.
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], axis = 0): Tensor[] {
  const [ax] = normaliseAxes(axis, x.rank) as [number];
  const extent = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections < 1) throw new Error(`split: size must be a positive integer, got ${sizeOrSections}`);
    sizes = Array.from({ length: Math.max(1, Math.ceil(extent / sizeOrSections)) }, (_, i) => Math.min(sizeOrSections, extent - i * sizeOrSections));
  } else {
    sizes = [...sizeOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== extent) {
      throw new Error(`split: sections [${sizes}] must be non-negative integers adding up to ${extent} (axis ${axis} of [${x.shape}])`);
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, d) => (d === ax ? at : 0));
    const size = x.shape.map((d, i) => (i === ax ? s : d));
    at += s;
    return slice(x, begin, size);
  });
}

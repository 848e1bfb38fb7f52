import { reduceKernel, broadcastToKernel, linearWorkgroups, REDUCE_WG, ELEMENTWISE_WG, type ReduceOp } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { broadcastStrides, normaliseAxes, sameShape, stridesOf } from '../shape.js';
import { mapBinary, mapUnary } from '../elementwise/elementwise.js';

function reduceRaw(op: ReduceOp, x: Tensor, axes: number[], keepDims: boolean, scale = 1): Tensor {
  const strides = stridesOf(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => x.shape[i]!);
  const y = allocTensor(outShape, op === 'argmax' || op === 'argmin' ? 'i32' : 'f32');
  const nRed = axes.reduce((n, a) => n * x.shape[a]!, 1);
  if (y.size === 0) return y;
  x.runtime.run(reduceKernel, { op }, [x, y], {
    keptShape: kept.map((i) => x.shape[i]!), keptStrides: kept.map((i) => strides[i]!),
    redShape: axes.map((a) => x.shape[a]!), redStrides: axes.map((a) => strides[a]!),
    nOut: y.size, nRed, keptRank: kept.length, redRank: axes.length, scale,
  }, linearWorkgroups(y.size, REDUCE_WG));
  return y;
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  const ax = normaliseAxes(axes, x.rank);
  const y = reduceRaw('sum', x, ax, keepDims);
  return record(y, 'sum', [x], [], (g) => [broadcastTo(g, keptShape(x.shape, ax), x.shape)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  const ax = normaliseAxes(axes, x.rank);
  const n = ax.reduce((k, a) => k * x.shape[a]!, 1);
  const y = reduceRaw('sum', x, ax, keepDims, 1 / n);
  return record(y, 'mean', [x], [], (g) => {
    const b = broadcastTo(g, keptShape(x.shape, ax), x.shape);
    const r = mapUnary('mulScalar', b, 1 / n);
    b.dispose();
    return [r];
  });
}

/**
 * Max (or min) over `axes`; the gradient flows to every position equal to the extreme (PyTorch's
 * `amax`/`amin` share it evenly; here each tied position gets the whole upstream gradient).
 */
function extreme(op: 'max' | 'min', x: Tensor, axes: number | number[] | undefined, keepDims: boolean): Tensor {
  const ax = normaliseAxes(axes, x.rank);
  const y = reduceRaw(op, x, ax, keepDims);
  return record(y, op, [x], [x, y], (g, [x, y]) => {
    const ks = keptShape(x!.shape, ax);
    const yb = broadcastTo(y!, ks, x!.shape);
    // x ≥ max or max ≥ x … i.e. x == the extreme
    const mask = op === 'max' ? mapBinary('greaterEqualMask', x!, yb) : mapBinary('greaterEqualMask', yb, x!);
    yb.dispose();
    const gb = broadcastTo(g, ks, x!.shape);
    const r = mapBinary('mul', gb, mask);
    gb.dispose();
    mask.dispose();
    return [r];
  });
}

/** Max over `axes` (all when omitted). */
export function max(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  return extreme('max', x, axes, keepDims);
}

/** Min over `axes` (all when omitted). */
export function min(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  return extreme('min', x, axes, keepDims);
}

/**
 * Index of the maximum along `axis` (int32; the first one on ties). `axis` null: the index into
 * the flattened tensor (PyTorch's `dim=None`). Not differentiable.
 */
export function argmax(x: Tensor, axis: number | null = -1, keepDims = false): Tensor {
  return reduceRaw('argmax', x, normaliseAxes(axis ?? undefined, x.rank), keepDims);
}

/** Index of the minimum along `axis` (int32; the first one on ties); null: into the flattened tensor. */
export function argmin(x: Tensor, axis: number | null = -1, keepDims = false): Tensor {
  return reduceRaw('argmin', x, normaliseAxes(axis ?? undefined, x.rank), keepDims);
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` up to g's shape). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g.view(g.shape);
  const off = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) axes.push(i);
  const r = reduceRaw('sum', g, axes, true);
  const v = r.view(shape);
  r.dispose();
  return v;
}

/** Shape with reduced axes set to 1. */
function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Broadcasts g (whose shape is `ones`: `shape` with reduced axes 1, possibly squeezed) to `shape`. */
export function broadcastTo(g: Tensor, ones: readonly number[], shape: readonly number[]): Tensor {
  const out = allocTensor(shape);
  g.runtime.run(broadcastToKernel, {}, [g, out], {
    outShape: shape, xStrides: broadcastStrides(ones, shape), n: out.size, rank: shape.length,
  }, linearWorkgroups(out.size, ELEMENTWISE_WG));
  return out;
}

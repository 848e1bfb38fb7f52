import { gatherKernel, scatterAddKernel, linearWorkgroups, GATHER_WG, MAX_RANK } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { zeros } from '../creation/creation.js';
import { normaliseAxes, stridesOf } from '../shape.js';
import { reshape } from '../shape-ops/shape-ops.js';

/**
 * Reads of x along one axis at the positions an int32 index gives; see `gather` and `indexSelect`.
 * `indexStrides` maps an output coordinate to the index element (0 on axes the index does not vary
 * along). An index outside [0, x.shape[axis]) reads 0 and receives no gradient.
 */
function gatherAlong(op: string, x: Tensor, axis: number, index: Tensor, outShape: number[], indexStrides: number[], skip = -1): Tensor {
  if (x.dtype !== 'f32') throw new Error(`${op}: x must be f32, got ${x.dtype}`);
  if (index.dtype !== 'i32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
  if (x.rank > MAX_RANK) throw new Error(`${op}: rank ${x.rank} exceeds ${MAX_RANK}`);
  const uniforms = {
    outShape, xStrides: stridesOf(x.shape), indexStrides, n: 0, rank: x.rank, axis, axisLen: x.shape[axis]!, skip,
  };
  const out = allocTensor(outShape);
  uniforms.n = out.size;
  if (out.size > 0) x.runtime.run(gatherKernel, {}, [x, index, out], uniforms, linearWorkgroups(out.size, GATHER_WG));
  const xShape = [...x.shape];
  return record(out, op, [x, index], [index], (g, [idx], needs) => {
    if (!needs[0]) return [null, null];
    const dx = zeros(xShape);
    if (g.size > 0) g.runtime.run(scatterAddKernel, {}, [g, idx!, dx], uniforms, linearWorkgroups(g.size, GATHER_WG));
    return [dx, null];
  });
}

/**
 * PyTorch's `torch.gather`: out[…, i, …] = x[…, index[…, i, …], …] along `axis`; `index` has x's
 * rank and each of its extents is at most x's (the output has the index's shape).
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const [ax] = normaliseAxes(axis, x.rank) as [number];
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new Error(`gather: index [${index.shape}] must have the rank of x [${x.shape}] and extents no larger off axis ${axis}`);
  }
  return gatherAlong('gather', x, ax, index, [...index.shape], stridesOf(index.shape));
}

/**
 * PyTorch's `torch.index_select`: the slices of x at positions `index` (int32, 1-D) along `axis`;
 * the output is x's shape with that axis's extent replaced by the index length.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  return indexSelectSkipping(x, axis, index, -1);
}

function indexSelectSkipping(x: Tensor, axis: number, index: Tensor, skip: number): Tensor {
  const [ax] = normaliseAxes(axis, x.rank) as [number];
  if (index.rank !== 1) throw new Error(`indexSelect: index must be 1-D, got [${index.shape}]`);
  const outShape = x.shape.map((d, i) => (i === ax ? index.size : d));
  return gatherAlong('indexSelect', x, ax, index, outShape, x.shape.map((_, i) => (i === ax ? 1 : 0)), skip);
}

/**
 * Rows of `weight` [numEmbeddings, dim] at int32 `indices` of any shape → [...indices.shape, dim]
 * (PyTorch's `F.embedding`). The gradient is scattered back into the rows that were read, except
 * the `paddingIdx` row's.
 */
export function embedding(indices: Tensor, weight: Tensor, opts: { paddingIdx?: number } = {}): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [numEmbeddings, dim], got [${weight.shape}]`);
  const padding = opts.paddingIdx === undefined ? -1 : opts.paddingIdx < 0 ? opts.paddingIdx + weight.shape[0]! : opts.paddingIdx;
  const flat = indices.view([indices.size]);
  const rows = indexSelectSkipping(weight, 0, flat, padding);
  flat.dispose();
  const out = reshape(rows, [...indices.shape, weight.shape[1]!]);
  rows.dispose();
  return out;
}

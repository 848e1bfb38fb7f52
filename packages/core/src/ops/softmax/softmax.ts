import {
  softmaxKernel, softmaxBackwardKernel, crossEntropyRowsKernel, crossEntropyLossKernel, crossEntropyBackwardKernel,
  linearWorkgroups, SOFTMAX_WG, type CrossEntropyReduction,
} from '@squeeze/kernels-wgsl';
import { allocTensor, sizeOf, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { normaliseAxes } from '../shape.js';

/** [outer, axisLen, inner] around `axis`, and the number of rows (outer·inner). */
function rowsAround(x: Tensor, axis: number): { rows: number; axisLen: number; inner: number } {
  const [ax] = normaliseAxes(axis, x.rank) as [number];
  const inner = sizeOf(x.shape.slice(ax + 1));
  return { rows: sizeOf(x.shape.slice(0, ax)) * inner, axisLen: x.shape[ax]!, inner };
}

function softmaxOp(x: Tensor, axis: number, log: boolean): Tensor {
  if (x.dtype !== 'f32') throw new Error(`${log ? 'logSoftmax' : 'softmax'}: needs an f32 tensor, got ${x.dtype}`);
  const dims = rowsAround(x, axis);
  const y = allocTensor(x.shape);
  x.runtime.run(softmaxKernel, { log }, [x, y], dims, linearWorkgroups(dims.rows, SOFTMAX_WG));
  return record(y, log ? 'logSoftmax' : 'softmax', [x], [y], (g, [y]) => {
    const dx = allocTensor(y!.shape);
    g.runtime.run(softmaxBackwardKernel, { log }, [y!, g, dx], dims, linearWorkgroups(dims.rows, SOFTMAX_WG));
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `axis` (numerically stable). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, false);
}

/** x − log Σ exp(x) along `axis` (numerically stable). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, true);
}

export interface SoftmaxCrossEntropyOptions {
  /** f32 [N]: 1 for a real row, 0 for a padded one (padded rows add nothing, whatever their label). */
  mask?: Tensor;
  /** 'mean' (default) averages over real rows, 'sum' adds them, 'none' returns the [N] row losses. */
  reduction?: CrossEntropyReduction;
}

/**
 * Cross-entropy of softmax(logits) against integer labels: per row log Σ exp(x) − x[label],
 * computed from the log-sum-exp so large logits never overflow. A real row's label must lie in
 * [0, C) (otherwise its loss is NaN). The gradient (softmax − onehot)·mask/count is one kernel.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: SoftmaxCrossEntropyOptions = {}): Tensor {
  const reduction = opts.reduction ?? 'mean';
  const mask = opts.mask;
  if (logits.rank !== 2 || logits.dtype !== 'f32') throw new Error(`softmaxCrossEntropy: logits must be f32 [N, C], got [${logits.shape}] ${logits.dtype}`);
  const [N, C] = logits.shape as [number, number];
  if (labels.dtype !== 'i32' || labels.size !== N || labels.rank !== 1) {
    throw new Error(`softmaxCrossEntropy: labels must be int32 [${N}], got [${labels.shape}] ${labels.dtype}`);
  }
  if (mask && (mask.dtype !== 'f32' || mask.size !== N || mask.rank !== 1)) {
    throw new Error(`softmaxCrossEntropy: mask must be f32 [${N}], got [${mask.shape}] ${mask.dtype}`);
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new Error(`softmaxCrossEntropy: unknown reduction '${reduction}'`);
  const masked = mask !== undefined;
  const rt = logits.runtime;
  const weights = masked ? [mask] : [];
  const lse = allocTensor([N]);
  // saved = [logits, labels, mask?, lse, scale?]: the backward kernel's bindings, with the upstream
  // gradient inserted after lse
  const saved = [logits, labels, ...weights, lse];
  const afterLse = saved.length;
  const temporaries = [lse];
  let out: Tensor;
  if (reduction === 'none') {
    out = allocTensor([N]);
    rt.run(crossEntropyRowsKernel, { masked }, [logits, labels, ...weights, out, lse], { N, C }, linearWorkgroups(N, SOFTMAX_WG));
  } else {
    // rows and their sum in one dispatch
    out = allocTensor([]);
    const scale = allocTensor([1]);
    rt.run(crossEntropyLossKernel, { masked, mean: reduction === 'mean' }, [logits, labels, ...weights, lse, out, scale], { N, C }, [1, 1, 1]);
    saved.push(scale);
    temporaries.push(scale);
  }
  record(out, 'softmaxCrossEntropy', [logits, labels, ...weights], saved, (g, s, needs) => {
    if (!needs[0]) return [null];
    const dx = allocTensor(logits.shape);
    g.runtime.run(crossEntropyBackwardKernel, { masked, reduction }, [...s.slice(0, afterLse), g, ...s.slice(afterLse), dx], { N, C },
      linearWorkgroups(N * C, SOFTMAX_WG));
    return [dx];
  });
  // the graph node keeps its own views of what it saved
  for (const t of temporaries) t.dispose();
  return out;
}

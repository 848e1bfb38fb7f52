import { labelMaskKernel, labelRangeCheckKernel, linearWorkgroups, SOFTMAX_WG } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../tensor.js';
import { tensor } from '../ops/creation/creation.js';
import { add, addScalar, div, exp, log, mul, mulScalar, neg, relu, square, sub } from '../ops/elementwise/elementwise.js';
import { mean, sum } from '../ops/reduce/reduce.js';
import { reshape } from '../ops/shape-ops/shape-ops.js';
import { gather } from '../ops/gather/gather.js';
import { logSoftmax, softmaxCrossEntropy } from '../ops/softmax/softmax.js';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Class labels: host values or an int32 tensor [N]. A label outside [0, classes) other than
 * `ignoreIndex` is an error of one line naming its row: thrown by the loss for host values and a
 * tensor made from host values with `tensor()`; for labels computed on the GPU (an argmax, say),
 * which are not read back, a kernel checks them and the next read (`item()`, `data()`) throws.
 */
export type Labels = Tensor | ArrayLike<number>;

export interface ClassLossOptions {
  /** f32 [N]: 1 for a real row, 0 for a padded one (padded rows add nothing, whatever their label). */
  mask?: Tensor;
  /** rows whose label is this value add nothing and are not counted by 'mean' (PyTorch's ignore_index; off unless given). */
  ignoreIndex?: number;
  /** 'mean' (default) over the counted rows, 'sum', or 'none' ([N] row losses). */
  reduction?: Reduction;
}

interface PreparedLabels { labels: Tensor; mask: Tensor | undefined; owned: Tensor[] }

/** Throws one line for a label outside [0, classes) (other than ignoreIndex). */
function checkLabelRange(op: string, host: ArrayLike<number>, classes: number, ignoreIndex: number | undefined): void {
  for (let i = 0; i < host.length; i++) {
    const l = host[i]!;
    if (l === ignoreIndex) continue;
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new Error(labelError(op, l, i, classes));
  }
}

/** The error line for label `label` of row `row`; `where` says when it was found. */
function labelError(op: string, label: number, row: number, classes: number, where = ''): string {
  return `${op}: label ${label} of row ${row} is outside [0, ${classes})${where}`;
}

/**
 * Checks the labels (host values, or a label tensor's values where it was made from the host; a
 * label tensor computed on the GPU is checked by a kernel, reported at the next read) and builds the
 * row mask that ignoreIndex implies.
 */
function prepareLabels(op: string, given: Labels, n: number, classes: number, opts: ClassLossOptions): PreparedLabels {
  const owned: Tensor[] = [];
  let labels: Tensor;
  if (given instanceof Object && 'dtype' in given && 'shape' in given) {
    labels = given as Tensor;
    if (labels.dtype !== 'i32' || labels.rank !== 1 || labels.size !== n) throw new Error(`${op}: labels must be int32 [${n}], got [${labels.shape}] ${labels.dtype}`);
    if (labels.hostValues) checkLabelRange(op, labels.hostValues, classes, opts.ignoreIndex);
    else checkLabelsOnGpu(op, labels, classes, opts.ignoreIndex);
  } else {
    const host = given as ArrayLike<number>;
    if (host.length !== n) throw new Error(`${op}: ${host.length} labels for ${n} rows`);
    checkLabelRange(op, host, classes, opts.ignoreIndex);
    labels = tensor(Int32Array.from(host), [n], 'i32');
    owned.push(labels);
  }
  if (opts.mask && (opts.mask.dtype !== 'f32' || opts.mask.rank !== 1 || opts.mask.size !== n)) {
    throw new Error(`${op}: mask must be f32 [${n}], got [${opts.mask.shape}] ${opts.mask.dtype}`);
  }
  let mask = opts.mask;
  if (opts.ignoreIndex !== undefined) {
    const m = allocTensor([n]);
    const masked = mask !== undefined;
    labels.runtime.run(labelMaskKernel, { masked }, [labels, ...(masked ? [mask!] : []), m], { N: n, ignoreIndex: opts.ignoreIndex }, linearWorkgroups(n, SOFTMAX_WG));
    owned.push(m);
    mask = m;
  }
  return { labels, mask, owned };
}

/** Records the range check of labels the CPU never saw; a failure throws at the runtime's next read. */
function checkLabelsOnGpu(op: string, labels: Tensor, classes: number, ignoreIndex: number | undefined): void {
  const rt = labels.runtime;
  const { record, code } = rt.checks.arm(`${op} ${classes}`, (row, bits) => labelError(op, bits | 0, row, classes, ' (labels computed on the GPU, found at this read)'));
  const uniforms = { N: labels.size, C: classes, ignoreIndex: ignoreIndex ?? 0, hasIgnore: ignoreIndex === undefined ? 0 : 1, code };
  rt.run(labelRangeCheckKernel, {}, [labels, record], uniforms, [1, 1, 1]);
}

/** Reduces row losses [N] already weighted by `mask`: 'mean' divides by Σ mask (or N), 0 when nothing counts. */
function reduceRows(rows: Tensor, mask: Tensor | undefined, reduction: Reduction): Tensor {
  if (reduction === 'none') return rows;
  if (reduction === 'sum') return sum(rows);
  if (!mask) return mean(rows);
  // Σ mask + [Σ mask == 0]: a batch with no counted rows has loss 0 rather than 0/0
  const count = sum(mask);
  const safe = add(count, relu(addScalar(neg(count), 1)));
  return div(sum(rows), safe);
}

function checkReduction(op: string, reduction: string): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') throw new Error(`${op}: unknown reduction '${reduction}'`);
  return reduction;
}

function checkLogits(op: string, x: Tensor): [number, number] {
  if (x.rank !== 2 || x.dtype !== 'f32') throw new Error(`${op}: input must be f32 [N, C], got [${x.shape}] ${x.dtype}`);
  return x.shape as [number, number];
}

export interface CrossEntropyOptions extends ClassLossOptions {
  /** ε in [0, 1]: the target is (1 − ε)·onehot + ε/C (PyTorch's label_smoothing; default 0). */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy of logits [N, C] against class labels [N] (PyTorch's `F.cross_entropy`).
 * Without label smoothing it is one fused kernel each way (`softmaxCrossEntropy`); with it, the
 * smoothing term −mean_c log softmax(x) is added with weight ε.
 */
export function crossEntropyLoss(logits: Tensor, labels: Labels, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropyLoss';
  const [n, classes] = checkLogits(op, logits);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const p = prepareLabels(op, labels, n, classes, opts);
  try {
    const hard = softmaxCrossEntropy(logits, p.labels, p.mask ? { mask: p.mask, reduction } : { reduction });
    if (eps === 0) return hard;
    const uniformRows = neg(mean(logSoftmax(logits, 1), 1));
    const smooth = reduceRows(p.mask ? mul(uniformRows, p.mask) : uniformRows, p.mask, reduction);
    return add(mulScalar(hard, 1 - eps), mulScalar(smooth, eps));
  } finally {
    for (const t of p.owned) t.dispose();
  }
}

/** Negative log-likelihood of log-probabilities [N, C] (e.g. `logSoftmax`) at class labels [N]. */
export function nllLoss(logProbs: Tensor, labels: Labels, opts: ClassLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const [n, classes] = checkLogits(op, logProbs);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const p = prepareLabels(op, labels, n, classes, opts);
  try {
    const column = p.labels.view([n, 1]);
    // an ignored row's label may lie outside [0, C): gather reads 0 there, and the mask zeroes it
    const picked = neg(reshape(gather(logProbs, 1, column), [n]));
    column.dispose();
    return reduceRows(p.mask ? mul(picked, p.mask) : picked, p.mask, reduction);
  } finally {
    for (const t of p.owned) t.dispose();
  }
}

export interface BceWithLogitsOptions {
  reduction?: Reduction;
  /** weight of the positive term, broadcast against the input (PyTorch's pos_weight). */
  posWeight?: Tensor;
}

/**
 * Binary cross-entropy of sigmoid(x) against targets y in [0, 1] (same shape), computed from the
 * logits so that it never overflows (PyTorch's `F.binary_cross_entropy_with_logits`):
 * (1 − y)·x + w·softplus(−x), w = 1 + (posWeight − 1)·y, softplus(−x) = log(1 + e^−|x|) + max(−x, 0).
 */
export function binaryCrossEntropyWithLogits(x: Tensor, y: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new Error(`${op}: target [${y.shape}] must have the input's shape [${x.shape}]`);
  }
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const negAbs = neg(add(relu(x), relu(neg(x))));
  const softplusNeg = add(log(addScalar(exp(negAbs), 1)), relu(neg(x)));
  const w = opts.posWeight ? addScalar(mul(addScalar(opts.posWeight, -1), y), 1) : null;
  const rows = add(sub(x, mul(x, y)), w ? mul(w, softplusNeg) : softplusNeg);
  return reduction === 'none' ? rows : reduction === 'sum' ? sum(rows) : mean(rows);
}

/** Squared error (prediction − target)², averaged (default), summed or element-wise. */
export function mseLoss(prediction: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const squared = square(sub(prediction, target));
  const reduction = opts.reduction ?? 'mean';
  return reduction === 'none' ? squared : reduction === 'mean' ? mean(squared) : sum(squared);
}

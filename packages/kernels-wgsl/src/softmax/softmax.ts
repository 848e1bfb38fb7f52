import { defineKernel, linearIndex, type BufferBinding, type UniformField } from '../kernel.js';

/**
 * Softmax family. A tensor is seen as [outer, axisLen, inner] around the softmax axis; one
 * invocation owns one row (outer, inner) and walks its axisLen elements at stride `inner`.
 */
export const SOFTMAX_WG = 64;

const ROW_UNIFORMS: UniformField[] = [
  { name: 'rows', type: 'u32' }, { name: 'axisLen', type: 'u32' }, { name: 'inner', type: 'u32' },
];

/** WGSL: `base`, the offset of element 0 of row r. */
const ROW_BASE = `
  let r = ${linearIndex(SOFTMAX_WG)};
  if (r >= u.rows) { return; }
  let base = (r / u.inner) * u.axisLen * u.inner + r % u.inner;`;

/** y = softmax(x) or log-softmax(x) along the axis, max-subtracted so exp never overflows. */
export const softmaxKernel = defineKernel<{ log: boolean }>({
  name: 'softmax',
  bindings: () => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'ys', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => ROW_UNIFORMS,
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  body: (p) => `${ROW_BASE}
  var m = -3.4028234e38;
  for (var j = 0u; j < u.axisLen; j++) { m = max(m, xs[base + j * u.inner]); }
  var s = 0.0;
  for (var j = 0u; j < u.axisLen; j++) { s += exp(xs[base + j * u.inner] - m); }
  ${p.log ? 'let logS = log(s);' : 'let invS = 1.0 / s;'}
  for (var j = 0u; j < u.axisLen; j++) {
    let i = base + j * u.inner;
    ys[i] = ${p.log ? 'xs[i] - m - logS' : 'exp(xs[i] - m) * invS'};
  }`,
});

/**
 * Gradient from the forward output y: softmax dx = y·(g − Σ g·y); log-softmax dx = g − eʸ·Σ g.
 */
export const softmaxBackwardKernel = defineKernel<{ log: boolean }>({
  name: 'softmax_backward',
  bindings: () => [
    { name: 'ys', type: 'f32', access: 'read' },
    { name: 'gs', type: 'f32', access: 'read' },
    { name: 'dxs', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => ROW_UNIFORMS,
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  body: (p) => `${ROW_BASE}
  var s = 0.0;
  for (var j = 0u; j < u.axisLen; j++) {
    let i = base + j * u.inner;
    s += ${p.log ? 'gs[i]' : 'gs[i] * ys[i]'};
  }
  for (var j = 0u; j < u.axisLen; j++) {
    let i = base + j * u.inner;
    dxs[i] = ${p.log ? 'gs[i] - exp(ys[i]) * s' : 'ys[i] * (gs[i] - s)'};
  }`,
});

// ── softmax cross-entropy on logits [N, C] with int labels [N] and an optional row mask [N] ──

export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

const maskBinding = (masked: boolean): BufferBinding[] => (masked ? [{ name: 'mask', type: 'f32', access: 'read' }] : []);
/** WGSL: the weight of row `row` (1 without a mask). */
const rowWeight = (masked: boolean, row: string) => (masked ? `mask[${row}]` : '1.0');

/**
 * WGSL: row `row`'s lse = log Σ exp(x) (written to lse[row]) and its loss (lse − x[label])·mask as
 * `rowLossValue`. A masked-out row (weight 0) gives 0 whatever its label (padded rows may carry any
 * label); a real row whose label is outside [0, C) gives NaN so the mistake surfaces in the loss.
 */
const rowLoss = (masked: boolean): string => `
  let base = row * u.C;
  var m = -3.4028234e38;
  for (var c = 0u; c < u.C; c++) { m = max(m, logits[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < u.C; c++) { s += exp(logits[base + c] - m); }
  let l = m + log(s);
  lse[row] = l;
  let w = ${rowWeight(masked, 'row')};
  let label = labels[row];
  var rowLossValue = 0.0;
  if (w != 0.0) {
    if (label < 0 || u32(label) >= u.C) {
      var nanBits = 0x7fc00000u; // a var: WGSL rejects NaN as a constant expression
      rowLossValue = bitcast<f32>(nanBits);
    } else {
      rowLossValue = (l - logits[base + u32(label)]) * w;
    }
  }`;

/** Per row: lse and the row's loss (reduction 'none'). One invocation per row. */
export const crossEntropyRowsKernel = defineKernel<{ masked: boolean }>({
  name: 'cross_entropy_rows',
  bindings: (p) => [
    { name: 'logits', type: 'f32', access: 'read' },
    { name: 'labels', type: 'i32', access: 'read' },
    ...maskBinding(p.masked),
    { name: 'rowLoss', type: 'f32', access: 'read_write' },
    { name: 'lse', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'N', type: 'u32' }, { name: 'C', type: 'u32' }],
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  body: (p) => `
  let row = ${linearIndex(SOFTMAX_WG)};
  if (row >= u.N) { return; }${rowLoss(p.masked)}
  rowLoss[row] = rowLossValue;`,
});

/**
 * The reduced loss in one dispatch ('mean', 'sum'): one workgroup whose invocations take rows in
 * turn (N is a batch size), each row's lse and loss as crossEntropyRowsKernel, then a tree sum in
 * workgroup memory into `loss`, and `scale`, the factor d loss / d rowLoss: 1/count for 'mean'
 * (count = Σ mask, or N), 1 for 'sum'. An all-masked batch has mean loss 0 and zero gradients
 * rather than 0/0.
 */
export const crossEntropyLossKernel = defineKernel<{ masked: boolean; mean: boolean }>({
  name: 'cross_entropy_loss',
  bindings: (p) => [
    { name: 'logits', type: 'f32', access: 'read' },
    { name: 'labels', type: 'i32', access: 'read' },
    ...maskBinding(p.masked),
    { name: 'lse', type: 'f32', access: 'read_write' },
    { name: 'loss', type: 'f32', access: 'read_write' },
    { name: 'scale', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'N', type: 'u32' }, { name: 'C', type: 'u32' }],
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  prelude: () => `var<workgroup> partialLoss: array<f32, ${SOFTMAX_WG}>;
var<workgroup> partialCount: array<f32, ${SOFTMAX_WG}>;`,
  body: (p) => `
  var total = 0.0;
  var count = 0.0;
  for (var row = lid.x; row < u.N; row += ${SOFTMAX_WG}u) {${rowLoss(p.masked)}
    total += rowLossValue;
    count += w;
  }
  partialLoss[lid.x] = total;
  partialCount[lid.x] = count;
  workgroupBarrier();
  for (var half = ${SOFTMAX_WG / 2}u; half > 0u; half >>= 1u) {
    if (lid.x < half) {
      partialLoss[lid.x] += partialLoss[lid.x + half];
      partialCount[lid.x] += partialCount[lid.x + half];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let n = partialCount[0];
    let sc = ${p.mean ? 'select(0.0, 1.0 / n, n > 0.0)' : '1.0'};
    loss[0] = partialLoss[0] * sc;
    scale[0] = sc;
  }`,
});

/**
 * The whole gradient in one pass, one invocation per logit:
 * dx[n, c] = (softmax(x)[n, c] − [c == label[n]])·mask[n]·g', with softmax from the saved lse and
 * g' = g·scale ('mean', 'sum': g is the scalar upstream gradient) or g[n] ('none').
 */
export const crossEntropyBackwardKernel = defineKernel<{ masked: boolean; reduction: CrossEntropyReduction }>({
  name: 'cross_entropy_backward',
  bindings: (p) => [
    { name: 'logits', type: 'f32', access: 'read' },
    { name: 'labels', type: 'i32', access: 'read' },
    ...maskBinding(p.masked),
    { name: 'lse', type: 'f32', access: 'read' },
    { name: 'grad', type: 'f32', access: 'read' },
    ...(p.reduction === 'none' ? [] : [{ name: 'scale', type: 'f32', access: 'read' } as const]),
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'N', type: 'u32' }, { name: 'C', type: 'u32' }],
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  body: (p) => `
  let i = ${linearIndex(SOFTMAX_WG)};
  if (i >= u.N * u.C) { return; }
  let row = i / u.C;
  let c = i % u.C;
  let g = ${p.reduction === 'none' ? 'grad[row]' : 'grad[0] * scale[0]'} * ${rowWeight(p.masked, 'row')};
  let onehot = select(0.0, 1.0, labels[row] == i32(c));
  // a masked-out row gets exactly 0 even if its (padding) logits are not finite
  dx[i] = select((exp(logits[i] - lse[row]) - onehot) * g, 0.0, g == 0.0);`,
});

/**
 * mask[n] = (labels[n] != ignoreIndex)·weight[n] (weight: the caller's row mask, or 1): the row
 * mask that makes the cross-entropy kernels skip rows whose label is `ignoreIndex`.
 */
export const labelMaskKernel = defineKernel<{ masked: boolean }>({
  name: 'label_mask',
  bindings: (p) => [
    { name: 'labels', type: 'i32', access: 'read' },
    ...(p.masked ? [{ name: 'weight', type: 'f32', access: 'read' } as const] : []),
    { name: 'mask', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'N', type: 'u32' }, { name: 'ignoreIndex', type: 'i32' }],
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  body: (p) => `
  let n = ${linearIndex(SOFTMAX_WG)};
  if (n >= u.N) { return; }
  mask[n] = select(${p.masked ? 'weight[n]' : '1.0'}, 0.0, labels[n] == u.ignoreIndex);`,
});

/**
 * Range check of class labels the CPU never saw: finds the first row n whose label lies outside
 * [0, C) (other than ignoreIndex when `hasIgnore`) and, unless the record already holds an earlier
 * failure, writes [code, n, label] into it, for the runtime to report at the next read. One
 * workgroup (a batch of labels is short); invocations stride the rows and the first bad row is a
 * workgroup minimum.
 */
export const labelRangeCheckKernel = defineKernel<Record<string, never>>({
  name: 'label_range_check',
  bindings: () => [
    { name: 'labels', type: 'i32', access: 'read' },
    { name: 'record', type: 'u32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'N', type: 'u32' }, { name: 'C', type: 'i32' }, { name: 'ignoreIndex', type: 'i32' }, { name: 'hasIgnore', type: 'u32' }, { name: 'code', type: 'u32' },
  ],
  workgroupSize: () => [SOFTMAX_WG, 1, 1],
  prelude: () => `var<workgroup> firstBad: array<u32, ${SOFTMAX_WG}>;`,
  body: () => `
  var first = 0xffffffffu;
  for (var n = lid.x; n < u.N; n += ${SOFTMAX_WG}u) {
    let l = labels[n];
    if ((u.hasIgnore == 0u || l != u.ignoreIndex) && (l < 0 || l >= u.C)) { first = n; break; }
  }
  firstBad[lid.x] = first;
  workgroupBarrier();
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s / 2u) {
    if (lid.x < s) { firstBad[lid.x] = min(firstBad[lid.x], firstBad[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u && firstBad[0] != 0xffffffffu && record[0] == 0u) {
    record[0] = u.code;
    record[1] = firstBad[0];
    record[2] = bitcast<u32>(labels[firstBad[0]]);
  }`,
});

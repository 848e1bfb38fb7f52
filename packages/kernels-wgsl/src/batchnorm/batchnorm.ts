import { defineKernel, linearIndex, pairSum, range, type BufferBinding } from '../kernel.js';
import type { DataFormat } from '../kernel.js';

/**
 * Batch-norm kernels. A tensor is seen per channel in one of two layouts:
 * - channels-first (NCHW and any [N, C, ...]): [N, C, S] with S the spatial size; a channel's
 *   elements are N contiguous runs of S. Vectorised along S when S % 4 == 0.
 * - channels-last (NHWC and rank 2 [N, C]): [R, C] with R = N·S rows; a channel is a column.
 *   Vectorised along C when C % 4 == 0.
 * `vec` says the tensor is read as vec4 (the aligned case); otherwise as scalars. Either way a
 * "vector" below is the unit one step of a loop reads (4 floats or 1).
 *
 * Per-channel parameters live in one [4, C] tensor: rows mean, 1/std, scale = weight/std,
 * shift = bias − mean·scale, so the forward is y = x·scale + shift (then ReLU when fused).
 * Training forward: partial sums (one pass over x, or summed by x's producing convolution) → channel
 * params (tiny) → apply (one pass); the apply may derive the table from the partial sums itself.
 * Backward: partial sums of g' and g'·(x − mean) (one pass over g and x) → channel gradients
 * (tiny) → dx (one pass), with g' = g masked by the ReLU when fused.
 *
 * The output y (apply) and the incoming gradient g (backward) may be a channel slice of a wider
 * tensor, so that several batch norms write one concatenation directly (a fire module's two
 * branches): channels-last rows of `wideRow` vectors with ours starting at vector `wideCol`;
 * channels-first planes `widePlane` vectors apart with ours starting at vector `wideOffset`.
 * A tensor of its own is the slice of everything (wideRow = cv, wideCol = 0; widePlane = C·S/V).
 */

export const BN_WG = 64;
/**
 * Vectors one invocation sums in the partial-sum pass: the channel's elements are cut into runs
 * of this many, each giving one partial; the channel-params pass adds the partials (on a CPU adapter
 * cheaper than one workgroup per channel with a barrier-laden tree reduction). Longer runs time
 * the same; this keeps a few thousand invocations at the small SqueezeNet layers.
 */
export const BN_REDUCE_CHUNK = 64;
/**
 * Partials per channel of the backward's partial-sum pass at most (its runs lengthen past
 * BN_REDUCE_CHUNK to stay under it): the dx pass adds a channel's partials itself in every
 * invocation (`channelGradCoefficients`), so their number is its overhead per BN_APPLY_CHUNK vectors.
 */
export const BN_GRAD_PARTS = 16;
/**
 * The same cap for the training forward's 'stats' pass where the apply adds the partials
 * (BnApplyParams.fromSums): 32, so that channels of up to 32 · BN_REDUCE_CHUNK vectors keep the
 * partition, and so the rounding, of the unfused partial sums and bn_channel_params. A producer's
 * statistics with more parts are folded (bn_fold_partials) before such an apply.
 */
export const BN_STATS_PARTS = 32;
/**
 * Vectors one invocation writes in the apply and dx passes: fewer, longer invocations of the same
 * streaming loop, at least as fast as shorter ones on lavapipe.
 */
export const BN_APPLY_CHUNK = 32;

/** Parameter-table row offsets (in channels): mean, 1/std, scale, shift. */
export const MEAN_ROW = 0;
export const INVSTD_ROW = 1;
export const SCALE_ROW = 2;
export const SHIFT_ROW = 3;

/** What the partial-sum pass accumulates per channel. */
export type BnReduceMode =
  /** Σ(x − K) and Σ(x − K)², K = the channel's first element (a shift that keeps the variance accurate). */
  | 'stats'
  /** Σg and Σg·(x − mean). */
  | 'grad'
  /** the same with g masked where the fused ReLU was inactive (x·scale + shift ≤ 0). */
  | 'gradRelu';

export interface BnReduceParams { layout: DataFormat; vec: boolean; mode: BnReduceMode }

export const vecType = (vec: boolean): 'vec4<f32>' | 'f32' => (vec ? 'vec4<f32>' : 'f32');
/** Channels-last vec4 reads per-channel tables ([rows, C]) as vec4; everything else as scalars. */
export const paramsType = (p: { layout: DataFormat; vec: boolean }) => (p.layout === 'NHWC' && p.vec ? 'vec4<f32>' as const : 'f32' as const);
/** WGSL length of one row of a per-channel table, in the units paramsType reads. */
export const tableRowLen = (p: { layout: DataFormat; vec: boolean }) => (paramsType(p) === 'vec4<f32>' ? 'u.cv' : 'u.c');
export const channelOf = (p: { layout: DataFormat }) => (p.layout === 'NCHW' ? 'c' : 'cv');
const horizontalSum = (vec: boolean, e: string) => (vec ? `dot(${e}, vec4<f32>(1.0))` : e);

/** WGSL that loads the per-channel constants the reduce/apply loops need into `mean`, `sc`, `sh`. */
export function channelConstants(p: { layout: DataFormat; vec: boolean }, channel: string, needMean: boolean, needAffine: boolean): string {
  const T = vecType(p.vec);
  // Channels-last vec4 reads the table as vec4 (C % 4 == 0, so each row starts on a vec4);
  // every other case reads scalars and splats them.
  const rowLen = tableRowLen(p);
  const at = (row: number) => `${T}(params[${row}u * ${rowLen} + ${channel}])`;
  const lines: string[] = [];
  if (needMean) lines.push(`let mean = ${at(MEAN_ROW)};`);
  if (needAffine) lines.push(`let sc = ${at(SCALE_ROW)};`, `let sh = ${at(SHIFT_ROW)};`);
  return lines.join('\n    ');
}

function accumulate(mode: BnReduceMode, T: string, off: string, wideOff: string): string {
  const [decls, t1, t2] = reduceTerms(mode, T, off, wideOff, '');
  return `${decls} a1 += ${t1}; a2 += ${t2};`;
}

/** One vector's declarations and its two terms (Σ's first and second quantity), names suffixed by `sfx`. */
function reduceTerms(mode: BnReduceMode, T: string, off: string, wideOff: string, sfx: string): [string, string, string] {
  if (mode === 'stats') return [`let d${sfx} = xs[${off}] - shiftK;`, `d${sfx}`, `d${sfx} * d${sfx}`];
  const g = mode === 'gradRelu' ? `select(${T}(0.0), gs[${wideOff}], xv${sfx} * sc + sh > ${T}(0.0))` : `gs[${wideOff}]`;
  return [`let xv${sfx} = xs[${off}]; let gv${sfx} = ${g};`, `gv${sfx}`, `gv${sfx} * (xv${sfx} - mean)`];
}

/** BN_REDUCE_UNROLL rows r, r + 1, … of a channels-last partial sum, each sum written once. */
function unrolledRows(mode: BnReduceMode, T: string): string {
  const rows = range(BN_REDUCE_UNROLL).map((q) => reduceTerms(mode, T, `(r + ${q}u) * u.cv + cv`, `(r + ${q}u) * u.wideRow + u.wideCol + cv`, `${q}`));
  return `${rows.map(([d]) => d).join('\n    ')}
    a1 = a1 + ${pairSum(rows.map(([, t1]) => t1))};
    a2 = a2 + ${pairSum(rows.map(([, , t2]) => t2))};`;
}

/**
 * Rows of a channels-last partial sum per loop step: four rows' terms are added before the one write
 * of each sum (lavapipe blends every write of a loop-carried value with the lane mask).
 */
const BN_REDUCE_UNROLL = 4;

/** Uniforms placing the (possibly wider) y or g tensor: see the file comment. */
export const wideUniforms = (layout: DataFormat) => (layout === 'NCHW'
  ? [{ name: 'widePlane', type: 'u32' as const }, { name: 'wideOffset', type: 'u32' as const }]
  : [{ name: 'wideRow', type: 'u32' as const }, { name: 'wideCol', type: 'u32' as const }]);

/**
 * Per-channel partial sums into `partials` laid out [2, P, C] (first quantity, then second).
 * Channels-first: invocation (c, p) sums vectors p·chunk … of channel c, walking its N planes;
 * channels-last: invocation (p, cv) sums rows p·chunk … of column cv (chunk: BN_REDUCE_CHUNK, or
 * more where BN_GRAD_PARTS or BN_STATS_PARTS caps the parts).
 */
export const bnPartialSumsKernel = defineKernel<BnReduceParams>({
  name: 'bn_partial_sums',
  bindings: (p) => [
    { name: 'xs', type: vecType(p.vec), access: 'read' },
    ...(p.mode === 'stats' ? [] : [
      { name: 'gs', type: vecType(p.vec), access: 'read' as const },
      { name: 'params', type: paramsType(p), access: 'read' as const },
    ]),
    { name: 'partials', type: paramsType(p), access: 'read_write' },
  ],
  uniforms: (p) => [
    ...(p.layout === 'NCHW'
      ? [
          { name: 'c', type: 'u32' as const }, { name: 'parts', type: 'u32' as const }, { name: 'chunk', type: 'u32' as const },
          /** vectors per channel (N·S/V), per plane (S/V), between planes (C·S/V) */
          { name: 'perChannel', type: 'u32' as const }, { name: 'sv', type: 'u32' as const }, { name: 'planeStride', type: 'u32' as const },
        ]
      : [
          { name: 'c', type: 'u32' as const }, { name: 'cv', type: 'u32' as const }, { name: 'parts', type: 'u32' as const },
          { name: 'chunk', type: 'u32' as const }, { name: 'rows', type: 'u32' as const },
        ]),
    ...(p.mode === 'stats' ? [] : wideUniforms(p.layout)),
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const constants = p.mode === 'stats'
      ? (p.layout === 'NCHW'
          ? `let shiftK = ${T}(xs[c * u.sv]${p.vec ? '.x' : ''});`
          : `let shiftK = xs[cv];`)
      : channelConstants(p, channelOf(p), true, p.mode === 'gradRelu');
    if (p.layout === 'NCHW') {
      return `
  let idx = ${linearIndex(BN_WG)};
  if (idx >= u.c * u.parts) { return; }
  let c = idx / u.parts;
  let part = idx % u.parts;
  ${constants}
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);
  var j = part * u.chunk;
  let jEnd = min(j + u.chunk, u.perChannel);
  var plane = j / u.sv;
  var s = j % u.sv;
  while (j < jEnd) {
    let run = min(u.sv - s, jEnd - j);
    let base = plane * u.planeStride + c * u.sv + s;
    ${p.mode === 'stats' ? '' : 'let wideBase = plane * u.widePlane + u.wideOffset + c * u.sv + s;'}
    for (var t = 0u; t < run; t++) {
      ${accumulate(p.mode, T, 'base + t', 'wideBase + t')}
    }
    j += run;
    plane += 1u;
    s = 0u;
  }
  partials[part * u.c + c] = ${horizontalSum(p.vec, 'a1')};
  partials[(u.parts + part) * u.c + c] = ${horizontalSum(p.vec, 'a2')};`;
    }
    return `
  let idx = ${linearIndex(BN_WG)};
  if (idx >= u.cv * u.parts) { return; }
  let cv = idx % u.cv;
  let part = idx / u.cv;
  ${constants}
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);
  let rEnd = min((part + 1u) * u.chunk, u.rows);
  var r = part * u.chunk;
  for (; r + ${BN_REDUCE_UNROLL}u <= rEnd; r += ${BN_REDUCE_UNROLL}u) {
    ${unrolledRows(p.mode, T)}
  }
  for (; r < rEnd; r++) {
    ${accumulate(p.mode, T, 'r * u.cv + cv', 'r * u.wideRow + u.wideCol + cv')}
  }
  partials[part * u.cv + cv] = a1;
  partials[(u.parts + part) * u.cv + cv] = a2;`;
  },
});

/**
 * Partials one invocation of the fold pass adds (bnFoldPartialsKernel). bn_channel_params sums a
 * channel's partials in one invocation, one load after another; the statistics a convolution sums in
 * its epilogue come in one partial per tile (1024 per channel for a 16×16 batch-32 layer), too many
 * for one invocation to add up quickly. Folding them 32 to 1 first is a parallel pass.
 */
export const BN_FOLD = 32;
/**
 * Fold only lists longer than this: up to 128 partials (the partial-sum pass's own, for the
 * SqueezeNet layers) the per-channel passes cost less than a fold dispatch per batch norm.
 */
export const BN_FOLD_ABOVE = 128;

/**
 * out[h][q][c] = Σ partials[h][q·BN_FOLD … (q + 1)·BN_FOLD − 1][c] for both halves h of [2, parts, C]
 * partials (C % 4 == 0, read as vec4): invocation (h·folded + q, cv). `shiftRow`: the partials are a
 * producer's [2·parts + 1, C] statistics, whose last row (the shift) is copied after the folded ones.
 * Dispatch linearWorkgroups((2·folded + (shiftRow ? 1 : 0))·cv, BN_WG).
 */
export const bnFoldPartialsKernel = defineKernel<{ shiftRow?: boolean }>({
  name: 'bn_fold_partials',
  bindings: () => [
    { name: 'partials', type: 'vec4<f32>', access: 'read' },
    { name: 'folded', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'parts', type: 'u32' }, { name: 'foldedParts', type: 'u32' }, { name: 'cv', type: 'u32' }],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => `
  let idx = ${linearIndex(BN_WG)};
  let cv = idx % u.cv;
  let row = idx / u.cv;
  ${p.shiftRow ? 'if (row == 2u * u.foldedParts) { folded[row * u.cv + cv] = partials[2u * u.parts * u.cv + cv]; return; }' : ''}
  if (row >= 2u * u.foldedParts) { return; }
  let half = row / u.foldedParts;
  let q = row % u.foldedParts;
  let first = q * ${BN_FOLD}u;
  let end = min(first + ${BN_FOLD}u, u.parts);
  var acc = vec4<f32>(0.0);
  for (var part = first; part < end; part++) { acc += partials[(half * u.parts + part) * u.cv + cv]; }
  folded[row * u.cv + cv] = acc;`,
});

export interface BnChannelParamsParams {
  training: boolean; hasWeight: boolean; hasBias: boolean;
  /**
   * Training: the partials are sums of x − runningMean (computed by x's producer, see
   * `statisticsEpilogue`), so the shift K is the running mean as it was before this update, and x is
   * not bound; otherwise K is the channel's first element of x ('stats' partial sums).
   */
  shiftIsRunningMean?: boolean;
}

/**
 * WGSL for a producing kernel's epilogue (convolutions writing a batch norm's input): adds the
 * stored value `v` (vec4 along channels) shifted by `k` to the running sums s1 += v − k,
 * s2 += (v − k)² when `valid`. The partials, [2, parts, C] as the 'stats' pass writes them but
 * shifted by the running mean, go to bn_channel_params with shiftIsRunningMean, or to an apply that
 * derives the table itself (BnApplyParams.fromSums with `producer`).
 */
export const statisticsEpilogue = (s1: string, s2: string, v: string, k: string, valid: string): string =>
  `{ let d = select(vec4<f32>(0.0), ${v} - ${k}, ${valid}); ${s1} += d; ${s2} += d * d; }`;

/**
 * WGSL storing the shift `k` (vec4) of channel vector `at` into the row after the partials (`parts`
 * of them, rows of `rowLen` vec4s), when `first`: the producer's [2·parts + 1, C] statistics carry the
 * running mean as it was when summed, so that an apply deriving the table from them can update the
 * running mean in place while its other invocations still need the old value.
 */
export const statisticsShiftRow = (k: string, at: string, parts: string, rowLen: string, first: string): string =>
  `if (${first}) { stats[2u * ${parts} * ${rowLen} + ${at}] = ${k}; }`;

/** The bindings such a producing kernel adds: the shift [C] and its statistics [2·parts + 1, C], as vec4s. */
export const statisticsBindings = (): BufferBinding[] => [
  { name: 'shift', type: 'vec4<f32>', access: 'read' },
  { name: 'stats', type: 'vec4<f32>', access: 'read_write' },
];

/**
 * One invocation per channel fills the [4, C] parameter table. Training: adds the 'stats'
 * partials into the batch mean and biased variance and updates the running stats in place
 * (running = (1 − m)·running + m·batch, the variance unbiased by n/(n − 1)); eval: reads them.
 */
export const bnChannelParamsKernel = defineKernel<BnChannelParamsParams>({
  name: 'bn_channel_params',
  bindings: (p) => [
    ...(p.training ? [
      ...(p.shiftIsRunningMean ? [] : [{ name: 'xs', type: 'f32' as const, access: 'read' as const }]),
      { name: 'partials', type: 'f32' as const, access: 'read' as const },
    ] : []),
    { name: 'runningMean', type: 'f32', access: p.training ? 'read_write' : 'read' },
    { name: 'runningVar', type: 'f32', access: p.training ? 'read_write' : 'read' },
    ...(p.hasWeight ? [{ name: 'weight', type: 'f32' as const, access: 'read' as const }] : []),
    ...(p.hasBias ? [{ name: 'bias', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'params', type: 'f32', access: 'read_write' },
  ],
  uniforms: (p) => [
    { name: 'c', type: 'u32' }, { name: 'eps', type: 'f32' },
    ...(p.training ? [
      { name: 'parts', type: 'u32' as const },
      /** element offset between the first elements of consecutive channels (S or 1; unused with shiftIsRunningMean) */
      { name: 'channelStride', type: 'u32' as const },
      { name: 'count', type: 'f32' as const },
      { name: 'momentum', type: 'f32' as const },
      { name: 'unbias', type: 'f32' as const },
    ] : []),
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => `
  let c = ${linearIndex(BN_WG)};
  if (c >= u.c) { return; }
  ${p.training ? `var s1 = 0.0;
  var s2 = 0.0;
  for (var part = 0u; part < u.parts; part++) {
    s1 += partials[part * u.c + c];
    s2 += partials[(u.parts + part) * u.c + c];
  }
  let d = s1 / u.count;
  let mean = ${p.shiftIsRunningMean ? 'runningMean[c]' : 'xs[c * u.channelStride]'} + d;
  let variance = max(s2 / u.count - d * d, 0.0);
  runningMean[c] = (1.0 - u.momentum) * runningMean[c] + u.momentum * mean;
  runningVar[c] = (1.0 - u.momentum) * runningVar[c] + u.momentum * variance * u.unbias;` : `let mean = runningMean[c];
  let variance = runningVar[c];`}
  let invstd = 1.0 / sqrt(variance + u.eps);
  let scale = ${p.hasWeight ? 'weight[c] * invstd' : 'invstd'};
  params[${MEAN_ROW}u * u.c + c] = mean;
  params[${INVSTD_ROW}u * u.c + c] = invstd;
  params[${SCALE_ROW}u * u.c + c] = scale;
  params[${SHIFT_ROW}u * u.c + c] = ${p.hasBias ? 'bias[c]' : '0.0'} - mean * scale;`,
});

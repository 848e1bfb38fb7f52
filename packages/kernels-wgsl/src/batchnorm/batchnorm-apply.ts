import { defineKernel, linearIndex, pairSum, range, type BufferBinding } from '../kernel.js';
import { BN_WG, BN_APPLY_CHUNK, BN_STATS_PARTS, MEAN_ROW, INVSTD_ROW, SCALE_ROW, SHIFT_ROW, vecType, paramsType, tableRowLen, channelOf, channelConstants, wideUniforms } from './batchnorm.js';
import type { DataFormat } from '../kernel.js';

// The batch norm's elementwise passes (apply, dx) and the per-channel gradient pass.

export interface BnApplyParams {
  layout: DataFormat; vec: boolean; relu: boolean;
  /**
   * Eval: the apply derives scale and shift from the running statistics (and weight and bias, where
   * given) itself, as bn_channel_params would, and the first invocation of each channel writes the
   * [4, C] table for a backward; that saves bn_channel_params' dispatch per batch norm.
   */
  fromRunning?: { hasWeight: boolean; hasBias: boolean };
  /**
   * Training with partial sums of x (BnDerivedSums): each invocation, of `u.chunk` vectors
   * (bnApplyChunk), adds its channel's partials into the batch mean and variance, and the first of
   * each channel updates the running statistics and writes the table, as bn_channel_params would (no
   * invocation reads the running mean, so its update races with nothing).
   */
  fromSums?: BnDerivedSums;
}

/**
 * Which table an apply derives from partial sums: with `producer`, the partials are x's producer's
 * [2·parts + 1, C] statistics (conv2dWithStatistics), shifted by the running mean whose old value
 * their last row holds; else the apply's own 'stats' partials, shifted by the channel's first element.
 */
export interface BnDerivedSums { hasWeight: boolean; hasBias: boolean; producer?: boolean }

/** The bindings an apply deriving its table from partial sums adds before `params`, typed as the table `P`. */
export function derivedSumsBindings(r: BnDerivedSums, P: 'vec4<f32>' | 'f32'): BufferBinding[] {
  return [
    { name: 'partials', type: P, access: 'read' },
    { name: 'runningMean', type: P, access: 'read_write' }, { name: 'runningVar', type: P, access: 'read_write' },
    ...(r.hasWeight ? [{ name: 'weight', type: P, access: 'read' as const }] : []),
    ...(r.hasBias ? [{ name: 'bias', type: P, access: 'read' as const }] : []),
  ];
}

/** The uniforms such an apply adds. */
export const derivedSumsUniforms = () => [
  { name: 'eps', type: 'f32' as const }, { name: 'parts', type: 'u32' as const }, { name: 'channelSize', type: 'f32' as const },
  { name: 'momentum', type: 'f32' as const }, { name: 'unbias', type: 'f32' as const },
];

/**
 * Vectors per invocation of bn_apply deriving its table from `parts` partials: BN_APPLY_CHUNK per
 * BN_STATS_PARTS partials, so that adding them stays a small part of each invocation's work
 * whatever the producer's partial count (no fold pass before the apply).
 */
export const bnApplyChunk = (parts: number): number => BN_APPLY_CHUNK * Math.max(1, Math.ceil(parts / BN_STATS_PARTS));

/**
 * The loop shared by the apply and dx passes; `load` reads the channel constants, `step` handles
 * vector `j`. Channels-first: each invocation takes BN_APPLY_CHUNK consecutive vectors, finds its
 * channel with one division and steps it along at plane boundaries. Channels-last: each
 * invocation takes one column (channel vector) over BN_APPLY_CHUNK rows, so the constants load
 * once (re-reading them per vector costs more than the data).
 */
function perChannelLoop(p: { layout: DataFormat }, load: string, step: string): string {
  if (p.layout === 'NCHW') {
    return `
  let first = ${linearIndex(BN_WG)} * ${BN_APPLY_CHUNK}u;
  if (first >= u.n) { return; }
  let end = min(first + ${BN_APPLY_CHUNK}u, u.n);
  var j = first;
  var c = (j / u.sv) % u.c;
  var s = j % u.sv;
  // jw = j + shift: the same element in the wide tensor (planes widePlane apart, ours at wideOffset).
  var shift = (j / (u.c * u.sv)) * (u.widePlane - u.c * u.sv) + u.wideOffset;
  while (j < end) {
    ${load}
    let runEnd = min(j + u.sv - s, end);
    for (; j < runEnd; j++) {
      let jw = j + shift;
      ${step}
    }
    s = 0u;
    c = select(c + 1u, 0u, c + 1u == u.c);
    if (c == 0u) { shift += u.widePlane - u.c * u.sv; }
  }`;
  }
  return `
  let idx = ${linearIndex(BN_WG)};
  if (idx >= u.cv * u.rowBlocks) { return; }
  let cv = idx % u.cv;
  let block = idx / u.cv;
  ${load}
  let rEnd = min((block + 1u) * ${BN_APPLY_CHUNK}u, u.rows);
  for (var r = block * ${BN_APPLY_CHUNK}u; r < rEnd; r++) {
    let j = r * u.cv + cv;
    let jw = r * u.wideRow + u.wideCol + cv;
    ${step}
  }`;
}

function applyUniforms(p: { layout: DataFormat }) {
  return [
    ...(p.layout === 'NCHW'
      ? [{ name: 'n', type: 'u32' as const }, { name: 'c', type: 'u32' as const }, { name: 'sv', type: 'u32' as const }]
      : [
          { name: 'rows', type: 'u32' as const }, { name: 'rowBlocks', type: 'u32' as const },
          { name: 'c', type: 'u32' as const }, { name: 'cv', type: 'u32' as const },
        ]),
    ...wideUniforms(p.layout),
  ];
}

/** Invocations of the apply and dx passes for `vectors` vectors (see `perChannelLoop`). */
export function bnApplyInvocations(layout: DataFormat, vectors: number, cv: number): number {
  return layout === 'NCHW' ? Math.ceil(vectors / BN_APPLY_CHUNK) : cv * Math.ceil(vectors / cv / BN_APPLY_CHUNK);
}

/**
 * The apply's loop where it derives its table from partial sums: each invocation takes one channel
 * (vector) and `u.chunk` of its vectors (bnApplyChunk), so it adds the partials once, in either
 * layout (channels-first walks the channel's planes as the partial-sum pass does). The first
 * invocation of a channel is block 0.
 */
function derivedLoop(p: { layout: DataFormat }, load: string, step: string): string {
  if (p.layout === 'NCHW') {
    return `
  let idx = ${linearIndex(BN_WG)};
  let perChannel = u.n / u.c;
  let blocks = (perChannel + u.chunk - 1u) / u.chunk;
  if (idx >= u.c * blocks) { return; }
  let c = idx / blocks;
  let block = idx % blocks;
  ${load}
  var at = block * u.chunk;
  let atEnd = min(at + u.chunk, perChannel);
  var plane = at / u.sv;
  var s = at % u.sv;
  while (at < atEnd) {
    let run = min(u.sv - s, atEnd - at);
    let base = (plane * u.c + c) * u.sv + s;
    let wideBase = plane * u.widePlane + u.wideOffset + c * u.sv + s;
    for (var t = 0u; t < run; t++) {
      let j = base + t;
      let jw = wideBase + t;
      ${step}
    }
    at += run;
    plane += 1u;
    s = 0u;
  }`;
  }
  return `
  let idx = ${linearIndex(BN_WG)};
  let blocks = (u.rows + u.chunk - 1u) / u.chunk;
  if (idx >= u.cv * blocks) { return; }
  let cv = idx % u.cv;
  let block = idx / u.cv;
  ${load}
  let rEnd = min((block + 1u) * u.chunk, u.rows);
  for (var r = block * u.chunk; r < rEnd; r++) {
    let j = r * u.cv + cv;
    let jw = r * u.wideRow + u.wideCol + cv;
    ${step}
  }`;
}


/** The first vector of a channel in perChannelLoop: channels-first, image 0's plane start; channels-last, row block 0. */
const firstOfChannel = (p: { layout: DataFormat }) => (p.layout === 'NCHW' ? 's == 0u && j < u.c * u.sv' : 'block == 0u');

/**
 * WGSL declaring `sc`, `sh` (as `T`) from the running statistics (fromRunning) or the partial sums
 * (fromSums; `P` the table's type), and writing the table (and updating the running statistics)
 * at `first`. `shiftK`: the WGSL of an apply's own partials' shift (unused with `producer`).
 */
export function derivedConstants(
  p: Pick<BnApplyParams, 'fromSums' | 'fromRunning'>, T: string, P: string, ch: string, rowLen: string, first: string, shiftK: string,
): string {
  const r = (p.fromSums ?? p.fromRunning)!;
  const k = p.fromSums?.producer ? `partials[2u * u.parts * ${rowLen} + ${ch}]` : shiftK;
  const statistics = p.fromSums
    ? `var s1 = ${P}(0.0);
    var s2 = ${P}(0.0);
    for (var part = 0u; part < u.parts; part++) {
      s1 += partials[part * ${rowLen} + ${ch}];
      s2 += partials[(u.parts + part) * ${rowLen} + ${ch}];
    }
    let d = s1 / u.channelSize;
    let mean = ${k} + d;
    let variance = max(s2 / u.channelSize - d * d, ${P}(0.0));`
    : `let mean = runningMean[${ch}];
    let variance = runningVar[${ch}];`;
  const running = p.fromSums
    ? `runningMean[${ch}] = (1.0 - u.momentum) * runningMean[${ch}] + u.momentum * mean;
      runningVar[${ch}] = (1.0 - u.momentum) * runningVar[${ch}] + u.momentum * variance * u.unbias;`
    : '';
  return `${statistics}
    let invstd = 1.0 / sqrt(variance + u.eps);
    let scaleC = ${r.hasWeight ? `weight[${ch}] * invstd` : 'invstd'};
    let shiftC = ${r.hasBias ? `bias[${ch}]` : '0.0'} - mean * scaleC;
    let sc = ${T}(scaleC);
    let sh = ${T}(shiftC);
    if (${first}) {
      ${running}
      params[${MEAN_ROW}u * ${rowLen} + ${ch}] = mean;
      params[${INVSTD_ROW}u * ${rowLen} + ${ch}] = invstd;
      params[${SCALE_ROW}u * ${rowLen} + ${ch}] = scaleC;
      params[${SHIFT_ROW}u * ${rowLen} + ${ch}] = shiftC;
    }`;
}

/** y = x·scale + shift per channel, then max(·, 0) when the ReLU is fused. `n` counts vectors. */
export const bnApplyKernel = defineKernel<BnApplyParams>({
  name: 'bn_apply',
  bindings: (p) => {
    const P = paramsType(p);
    const r = p.fromRunning;
    return [
      { name: 'xs', type: vecType(p.vec), access: 'read' },
      ...(p.fromSums ? derivedSumsBindings(p.fromSums, P) : []),
      ...(r ? [
        { name: 'runningMean', type: P, access: 'read' as const }, { name: 'runningVar', type: P, access: 'read' as const },
        ...(r.hasWeight ? [{ name: 'weight', type: P, access: 'read' as const }] : []),
        ...(r.hasBias ? [{ name: 'bias', type: P, access: 'read' as const }] : []),
      ] : []),
      { name: 'params', type: P, access: r || p.fromSums ? 'read_write' : 'read' },
      { name: 'ys', type: vecType(p.vec), access: 'read_write' },
    ];
  },
  uniforms: (p) => [
    ...applyUniforms(p),
    ...(p.fromSums ? [...derivedSumsUniforms(), { name: 'chunk', type: 'u32' as const }] : p.fromRunning ? [{ name: 'eps', type: 'f32' as const }] : []),
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const y = p.relu ? `max(xs[j] * sc + sh, ${T}(0.0))` : 'xs[j] * sc + sh';
    const ownShift = p.layout === 'NCHW' ? `xs[c * u.sv]${p.vec ? '.x' : ''}` : `xs[${channelOf(p)}]`;
    if (p.fromSums) return derivedLoop(p, derivedConstants(p, T, paramsType(p), channelOf(p), tableRowLen(p), 'block == 0u', ownShift), `ys[jw] = ${y};`);
    const load = p.fromRunning
      ? derivedConstants(p, T, paramsType(p), channelOf(p), tableRowLen(p), firstOfChannel(p), ownShift)
      : channelConstants(p, channelOf(p), false, true);
    return perChannelLoop(p, load, `ys[jw] = ${y};`);
  },
});

export interface BnGradParams { training: boolean; coefs: boolean; weightGrad: boolean; biasGrad: boolean }

/**
 * One invocation per channel turns the 'grad' partials into dbias = Σg', dweight = Σg'·x̂
 * (x̂ = (x − mean)/std) and, in training, the dx coefficients [3, C] (k, k2, k3) of
 * dx = k·g' + k2·x + k3, which is scale·(g' − mean(g') − x̂·mean(g'·x̂)) expanded.
 */
export const bnChannelGradsKernel = defineKernel<BnGradParams>({
  name: 'bn_channel_grads',
  bindings: (p) => [
    { name: 'partials', type: 'f32', access: 'read' },
    { name: 'params', type: 'f32', access: 'read' },
    ...(p.coefs ? [{ name: 'coefs', type: 'f32' as const, access: 'read_write' as const }] : []),
    ...(p.weightGrad ? [{ name: 'dweight', type: 'f32' as const, access: 'read_write' as const }] : []),
    ...(p.biasGrad ? [{ name: 'dbias', type: 'f32' as const, access: 'read_write' as const }] : []),
  ],
  uniforms: () => [{ name: 'c', type: 'u32' }, { name: 'parts', type: 'u32' }, { name: 'count', type: 'f32' }],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => `
  let c = ${linearIndex(BN_WG)};
  if (c >= u.c) { return; }
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var part = 0u; part < u.parts; part++) {
    sumG += partials[part * u.c + c];
    sumGX += partials[(u.parts + part) * u.c + c];
  }
  let invstd = params[${INVSTD_ROW}u * u.c + c];
  ${p.weightGrad ? 'dweight[c] = sumGX * invstd;' : ''}
  ${p.biasGrad ? 'dbias[c] = sumG;' : ''}
  ${p.coefs ? `let mean = params[${MEAN_ROW}u * u.c + c];
  let k = params[${SCALE_ROW}u * u.c + c];
  let k2 = -k * invstd * invstd * sumGX / u.count;
  coefs[c] = k;
  coefs[u.c + c] = k2;
  coefs[2u * u.c + c] = -k * sumG / u.count - k2 * mean;` : ''}`,
});

/**
 * The dx pass's own channel gradients: where the coefficients come from 'grad' partial sums rather
 * than a [3, C] table, each invocation adds its channel's partials (BN_GRAD_PARTS at most) and
 * derives k, k2, k3 as bn_channel_grads does, and the invocation `first` of a channel writes its
 * weight and bias gradients. That saves bn_channel_grads' dispatch per batch norm.
 */
export interface BnGradSumsParams { weightGrad: boolean; biasGrad: boolean }

/** The bindings `channelGradCoefficients` reads and writes, in this order, typed as the table `P`. */
export function gradSumsBindings(p: BnGradSumsParams, P: 'vec4<f32>' | 'f32'): BufferBinding[] {
  return [
    { name: 'partials', type: P, access: 'read' },
    ...(p.weightGrad ? [{ name: 'dweight', type: P, access: 'read_write' as const }] : []),
    ...(p.biasGrad ? [{ name: 'dbias', type: P, access: 'read_write' as const }] : []),
  ];
}

/** Uniforms of the summed partials: their number per channel, and values per channel (N·S). */
export const gradSumsUniforms = () => [{ name: 'parts', type: 'u32' as const }, { name: 'channelSize', type: 'f32' as const }];

/**
 * WGSL declaring k, k2, k3 (as `T`) for table entry `ch` of rows `rowLen` long, from [2, parts, C]
 * 'grad' partials and the [4, C] parameter table (types as `P`); `first` guards the affine gradients.
 */
export function channelGradCoefficients(p: BnGradSumsParams, T: string, P: string, ch: string, rowLen: string, first: string): string {
  const writes = [p.weightGrad ? `dweight[${ch}] = sumGX * invstd;` : '', p.biasGrad ? `dbias[${ch}] = sumG;` : ''].filter(Boolean).join(' ');
  return `var sumG = ${P}(0.0);
    var sumGX = ${P}(0.0);
    for (var part = 0u; part < u.parts; part++) {
      sumG += partials[part * ${rowLen} + ${ch}];
      sumGX += partials[(u.parts + part) * ${rowLen} + ${ch}];
    }
    let invstd = params[${INVSTD_ROW}u * ${rowLen} + ${ch}];
    let kc = params[${SCALE_ROW}u * ${rowLen} + ${ch}];
    let k2c = -kc * invstd * invstd * sumGX / u.channelSize;
    let k = ${T}(kc);
    let k2 = ${T}(k2c);
    let k3 = ${T}(-kc * sumG / u.channelSize - k2c * params[${MEAN_ROW}u * ${rowLen} + ${ch}]);
    ${writes ? `if (${first}) { ${writes} }` : ''}`;
}

export interface BnDxParams {
  layout: DataFormat; vec: boolean; relu: boolean; training: boolean;
  /** training: the coefficients from 'grad' partials (channelGradCoefficients) instead of a [3, C] table. */
  sums?: BnGradSumsParams;
}

/** Eval without ReLU needs only g: dx = scale·g. */
export const dxReadsX = (p: BnDxParams): boolean => p.training || p.relu;

/**
 * dx per element: training dx = k·g' + k2·x + k3 (coefficients from bn_channel_grads, or from the
 * partial sums, see BnGradSumsParams); eval dx = scale·g'. With the fused ReLU, g' = g where
 * x·scale + shift > 0, else 0.
 */
export const bnDxKernel = defineKernel<BnDxParams>({
  name: 'bn_dx',
  bindings: (p) => [
    { name: 'gs', type: vecType(p.vec), access: 'read' },
    ...(dxReadsX(p) ? [{ name: 'xs', type: vecType(p.vec), access: 'read' as const }] : []),
    { name: 'params', type: paramsType(p), access: 'read' },
    ...(p.training ? (p.sums ? gradSumsBindings(p.sums, paramsType(p)) : [{ name: 'coefs', type: paramsType(p), access: 'read' as const }]) : []),
    { name: 'dxs', type: vecType(p.vec), access: 'read_write' },
  ],
  uniforms: (p) => [...applyUniforms(p), ...(p.training && p.sums ? gradSumsUniforms() : [])],
  workgroupSize: () => [BN_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const ch = channelOf(p);
    const rowLen = tableRowLen(p);
    let load = channelConstants(p, ch, false, p.relu || !p.training);
    if (p.training && p.sums) {
      load += `\n    ${channelGradCoefficients(p.sums, T, paramsType(p), ch, rowLen, firstOfChannel(p))}`;
    } else if (p.training) {
      load += `\n    let k = ${T}(coefs[${ch}]);\n    let k2 = ${T}(coefs[${rowLen} + ${ch}]);\n    let k3 = ${T}(coefs[2u * ${rowLen} + ${ch}]);`;
    }
    const g = p.relu ? `select(${T}(0.0), gs[jw], xv * sc + sh > ${T}(0.0))` : 'gs[jw]';
    const dx = p.training ? 'k * gv + k2 * xv + k3' : 'sc * gv';
    return perChannelLoop(p, load, `${dxReadsX(p) ? 'let xv = xs[j];\n      ' : ''}let gv = ${g};\n      dxs[j] = ${dx};`);
  },
});

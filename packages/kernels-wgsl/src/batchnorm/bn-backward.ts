import { defineKernel, range, type BufferBinding } from '../kernel.js';
import type { DataFormat } from '../kernel.js';
import { BN_WG, MEAN_ROW, INVSTD_ROW, SCALE_ROW, SHIFT_ROW, vecType, paramsType, tableRowLen, wideUniforms } from './batchnorm.js';

/**
 * The training backward of a batch norm in one dispatch: a workgroup owns a few channels
 * (channels-last: columns, a column being a channel vector, vec4 or scalar as batchnorm.ts says) and
 * 1. sums g' and g'·(x − mean) over its channels' elements (g' = g masked by the fused ReLU,
 *    recomputed from x);
 * 2. adds the lanes' sums in workgroup memory;
 * 3. writes dx = k·g' + k2·x + k3 (the coefficients bn_channel_grads derives), and one lane per
 *    channel the weight and bias gradients.
 * Where a lane's share of the channel is at most BN_BACKWARD_CACHE vectors (`cached`), step 1 keeps
 * x and g' in registers and step 3 reads nothing again. This replaces the partial-sum pass and the
 * dx pass that adds its channel's partials (two dispatches) where the channels give enough
 * workgroups (core's batchnorm/plan.ts).
 *
 * A workgroup owns `cols` channels (a power of two up to BN_WG), lanes = BN_WG / cols lanes each;
 * channels-first, lane l of workgroup q takes channel q·cols + l / lanes, channels-last column
 * q·cols + l % cols (a row's columns in adjacent lanes). Each lane takes a run of consecutive
 * vectors (rows) of its channel, walked as bn_partial_sums does: on a CPU adapter each lane then
 * streams memory, where lanes striding through the channel fetch each cache line many times.
 * g may be a channel slice of a wider tensor (batchnorm.ts's wide uniforms); dx is x's own shape.
 */
export interface BnBackwardParams {
  layout: DataFormat; vec: boolean; relu: boolean;
  weightGrad: boolean; biasGrad: boolean;
  /** every lane's vectors fit BN_BACKWARD_CACHE registers: the dx step reuses step 1's loads. */
  cached: boolean;
}

/** Vectors per lane kept in registers between the sums and dx when `cached`. */
export const BN_BACKWARD_CACHE = 8;

const affineBindings = (p: { weightGrad: boolean; biasGrad: boolean }, P: 'vec4<f32>' | 'f32'): BufferBinding[] => [
  ...(p.weightGrad ? [{ name: 'dweight', type: P, access: 'read_write' as const }] : []),
  ...(p.biasGrad ? [{ name: 'dbias', type: P, access: 'read_write' as const }] : []),
];

/** The workgroup arrays the lanes' sums are added in. */
const reductionPrelude = (P: string) => `var<workgroup> sum1: array<${P}, ${BN_WG}>;
var<workgroup> sum2: array<${P}, ${BN_WG}>;`;

/**
 * WGSL adding the lanes' `a1`, `a2` (type T) of each channel into sumG, sumGX, then deriving k, k2,
 * k3 (as T) for table entry `ch` and writing the affine gradients from one lane per channel where
 * `owned`. Every lane runs it (barriers in uniform control flow). Channels-last lanes are
 * interleaved (column l % cols), channels-first ones blocked (channel l / lanes, slot l % lanes).
 */
function reduceAndCoefficients(p: { layout: DataFormat; weightGrad: boolean; biasGrad: boolean }, T: string, P: string, ch: string, rowLen: string): string {
  const nchw = p.layout === 'NCHW';
  // Channels-first vec4 sums fold the four lanes of a vector before the workgroup sum.
  const toP = (e: string) => (T !== P ? `dot(${e}, vec4<f32>(1.0))` : e);
  const writes = [p.weightGrad ? `dweight[${ch}] = sumGX * invstd;` : '', p.biasGrad ? `dbias[${ch}] = sumG;` : ''].filter(Boolean).join(' ');
  return `sum1[lindex] = ${toP('a1')};
  sum2[lindex] = ${toP('a2')};
  workgroupBarrier();
  for (var half = ${nchw ? 'lanes / 2u' : `${BN_WG / 2}u`}; half >= ${nchw ? '1u' : 'u.cols'}; half = half / 2u) {
    if (${nchw ? 'slot' : 'lindex'} < half) {
      sum1[lindex] += sum1[lindex + half];
      sum2[lindex] += sum2[lindex + half];
    }
    workgroupBarrier();
  }
  let total = ${nchw ? 'lindex - slot' : 'lindex % u.cols'};
  let sumG = sum1[total];
  let sumGX = sum2[total];
  let invstd = params[${INVSTD_ROW}u * ${rowLen} + ${ch}];
  let kc = params[${SCALE_ROW}u * ${rowLen} + ${ch}];
  let k2c = -kc * invstd * invstd * sumGX / u.channelSize;
  let k = ${T}(kc);
  let k2 = ${T}(k2c);
  let k3 = ${T}(-kc * sumG / u.channelSize - k2c * mean);
  ${writes ? `if (${nchw ? 'slot == 0u' : 'lindex < u.cols'} && owned) { ${writes} }` : ''}`;
}

/** One vector's x and g' at element `i` (g at `iw`), names suffixed by `sfx`; `valid` (a bool) masks g' too. */
function loadTerms(p: { relu: boolean }, T: string, i: string, iw: string, sfx: string, valid = ''): string {
  const masks = [p.relu ? `xv${sfx} * sc + sh > ${T}(0.0)` : '', valid && (T === 'f32' ? valid : `vec4<bool>(${valid})`)].filter(Boolean);
  const gv = masks.length ? `select(${T}(0.0), gs[${iw}], ${masks.map((m) => `(${m})`).join(' & ')})` : `gs[${iw}]`;
  return `let xv${sfx} = xs[${i}]; let gv${sfx} = ${gv};`;
}

/** The per-layout head: which channel (column) this workgroup and lane own, and its constants. */
function head(p: BnBackwardParams, T: string): string {
  const rowLen = tableRowLen(p);
  const ch = p.layout === 'NCHW' ? 'c' : 'chc';
  const at = (row: number) => `params[${row}u * ${rowLen} + ${ch}]`;
  const place = p.layout === 'NCHW'
    ? `let lanes = ${BN_WG}u / u.cols;
  let slot = lindex % lanes;
  let owned = wid.x * u.cols + lindex / lanes < u.c;
  let c = min(wid.x * u.cols + lindex / lanes, u.c - 1u);`
    : `let lanes = ${BN_WG}u / u.cols;
  let slot = lindex / u.cols;
  let col = wid.x * u.cols + lindex % u.cols;
  let owned = col < u.cv;
  let chc = min(col, u.cv - 1u);`;
  // The lane's run [first, last) of its channel's vectors (rows); none for lanes off the channels.
  const count = p.layout === 'NCHW' ? 'u.perChannel' : 'u.rows';
  return `${place}
  let len = (${count} + lanes - 1u) / lanes;
  let first = select(${count}, min(slot * len, ${count}), owned);
  let last = min(first + len, ${count});
  let mean = ${at(MEAN_ROW)};
  let meanT = ${T}(mean);
  ${p.relu ? `let sc = ${T}(${at(SCALE_ROW)});\n  let sh = ${T}(${at(SHIFT_ROW)});` : ''}
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);`;
}

/**
 * WGSL running `step` on each vector of the lane's run with its element index `i` and wide-g index
 * `iw`: channels-first plane by plane (a division per plane, not per vector: lavapipe scalarises
 * integer division), channels-last row by row.
 */
function walkRun(p: { layout: DataFormat }, step: string): string {
  if (p.layout === 'NHWC') {
    return `for (var r = first; r < last; r++) {
    let i = r * u.cv + col;
    let iw = r * u.wideRow + u.wideCol + col;
    ${step}
  }`;
  }
  return `{
    var j = first;
    var plane = j / u.sv;
    var s = j % u.sv;
    while (j < last) {
      let run = min(u.sv - s, last - j);
      let base = plane * u.planeStride + c * u.sv + s;
      let wideBase = plane * u.widePlane + u.wideOffset + c * u.sv + s;
      for (var t = 0u; t < run; t++) {
        let i = base + t;
        let iw = wideBase + t;
        ${step}
      }
      j += run; plane += 1u; s = 0u;
    }
  }`;
}

/** WGSL declaring i{q}, iw{q}, the indices of the lane's vector first + q (any index where off its run). */
function unrolledIndices(p: { layout: DataFormat }, q: number): string {
  if (p.layout === 'NHWC') return `let i${q} = (first + ${q}u) * u.cv + col; let iw${q} = (first + ${q}u) * u.wideRow + u.wideCol + col;`;
  // (plane, s) of vector first + q, carried from q − 1 without a division.
  return `${q === 0 ? 'var plane = first / u.sv; var s = first % u.sv;' : 's += 1u; if (s == u.sv) { s = 0u; plane += 1u; }'}
  let i${q} = plane * u.planeStride + c * u.sv + s; let iw${q} = plane * u.widePlane + u.wideOffset + c * u.sv + s;`;
}

export const bnBackwardKernel = defineKernel<BnBackwardParams>({
  name: 'bn_backward',
  bindings: (p) => [
    { name: 'gs', type: vecType(p.vec), access: 'read' },
    { name: 'xs', type: vecType(p.vec), access: 'read' },
    { name: 'params', type: paramsType(p), access: 'read' },
    ...affineBindings(p, paramsType(p)),
    { name: 'dxs', type: vecType(p.vec), access: 'read_write' },
  ],
  uniforms: (p) => [
    ...(p.layout === 'NCHW'
      ? [
          /** vectors per channel (N·S/V), per plane (S/V), between planes (C·S/V) */
          { name: 'perChannel', type: 'u32' as const }, { name: 'sv', type: 'u32' as const }, { name: 'planeStride', type: 'u32' as const },
          { name: 'c', type: 'u32' as const },
          /** channels per workgroup, a power of two up to BN_WG: BN_WG / cols lanes each */
          { name: 'cols', type: 'u32' as const },
        ]
      : [
          { name: 'rows', type: 'u32' as const }, { name: 'c', type: 'u32' as const }, { name: 'cv', type: 'u32' as const },
          /** columns per workgroup: a power of two up to BN_WG */
          { name: 'cols', type: 'u32' as const },
        ]),
    ...wideUniforms(p.layout),
    /** values per channel (N·S), as f32 */
    { name: 'channelSize', type: 'f32' },
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  prelude: (p) => reductionPrelude(paramsType(p)),
  body: (p) => {
    const T = vecType(p.vec);
    const P = paramsType(p);
    const nchw = p.layout === 'NCHW';
    const ch = nchw ? 'c' : 'chc';
    const coefficients = reduceAndCoefficients(p, T, P, ch, tableRowLen(p));
    if (p.cached) {
      // Unrolled: the lane's vectors stay in registers from the sums to dx.
      const qs = range(BN_BACKWARD_CACHE);
      const loads = qs.map((q) => `let on${q} = first + ${q}u < last;
  ${unrolledIndices(p, q)}
  ${loadTerms(p, T, `select(0u, i${q}, on${q})`, `select(0u, iw${q}, on${q})`, `${q}`, `on${q}`)}
  a1 += gv${q}; a2 += gv${q} * (xv${q} - meanT);`);
      return `
  ${head(p, T)}
  ${loads.join('\n  ')}
  ${coefficients}
  ${qs.map((q) => `if (on${q}) { dxs[i${q}] = k * gv${q} + k2 * xv${q} + k3; }`).join('\n  ')}`;
    }
    return `
  ${head(p, T)}
  ${walkRun(p, `${loadTerms(p, T, 'i', 'iw', '')}
        a1 += gv; a2 += gv * (xv - meanT);`)}
  ${coefficients}
  ${walkRun(p, `${loadTerms(p, T, 'i', 'iw', '')}
        dxs[i] = k * gv + k2 * xv + k3;`)}`;
  },
});

/**
 * The training backward of batchNormReluMaxPool (bn-relu-maxpool.ts) in one dispatch, as
 * bnBackwardKernel: workgroup q owns columns q·cols … (vec4 channel vectors), its lanes walk the
 * pooled pixels summing g' and g'·(x − mean) at each window's saved position, add the sums in
 * workgroup memory, then write dx = k·g' + k2·x + k3 window by window, and the first lanes the
 * weight and bias gradients. Tensors as bn-relu-maxpool.ts lays them out.
 */
export const bnReluMaxPoolBackwardKernel = defineKernel<{ weightGrad: boolean; biasGrad: boolean }>({
  name: 'bn_relu_max_pool_backward',
  bindings: (p) => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    /** x again, as scalars: each channel of a vector reads its own window position */
    { name: 'xf', type: 'f32', access: 'read' },
    { name: 'gs', type: 'vec4<f32>', access: 'read' },
    { name: 'positions', type: 'vec4<f32>', access: 'read' },
    { name: 'params', type: 'vec4<f32>', access: 'read' },
    ...affineBindings(p, 'vec4<f32>'),
    { name: 'dxs', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    /** pooled pixels n·oh·ow */
    { name: 'rows', type: 'u32' },
    { name: 'cv', type: 'u32' }, { name: 'cols', type: 'u32' },
    { name: 'w', type: 'u32' }, { name: 'ow', type: 'u32' }, { name: 'kh', type: 'u32' }, { name: 'kw', type: 'u32' },
    ...wideUniforms('NHWC'),
    { name: 'channelSize', type: 'f32' },
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  prelude: () => reductionPrelude('vec4<f32>'),
  body: (p) => {
    const T = 'vec4<f32>';
    // Pooled pixel r: its row t = image·oh + oy and column ox; its window's top-left input pixel.
    // (t, ox) advance with r, without a division per pixel.
    const walk = (body: string) => `t = first / u.ow; ox = first % u.ow;
  for (var r = first; r < last; r++) {
    ${body}
    ox += 1u;
    if (ox == u.ow) { ox = 0u; t += 1u; }
  }`;
    const window = `let corner = t * u.kh * u.w + ox * u.kw;
    let pos = positions[r * u.cv + cvi];
    let g = gs[r * u.wideRow + u.wideCol + cvi];`;
    return `
  let col = wid.x * u.cols + lindex % u.cols;
  let owned = col < u.cv;
  let cvi = min(col, u.cv - 1u);
  let mean = params[${MEAN_ROW}u * u.cv + cvi];
  let meanT = mean;
  let sc = params[${SCALE_ROW}u * u.cv + cvi];
  let sh = params[${SHIFT_ROW}u * u.cv + cvi];
  let kw = f32(u.kw);
  // The lane's run [first, last) of pooled pixels, as bnBackwardKernel's.
  let lanes = ${BN_WG}u / u.cols;
  let len = (u.rows + lanes - 1u) / lanes;
  let first = select(u.rows, min((lindex / u.cols) * len, u.rows), owned);
  let last = min(first + len, u.rows);
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);
  var t: u32; var ox: u32;
  ${walk(`${window}
    // positions hold ky·kw + kx as small exact floats: ky = floor((pos + ½) / kw) is exact.
    let ky = floor((pos + vec4<f32>(0.5)) / kw);
    let at = ((vec4<u32>(corner) + vec4<u32>(ky) * u.w + vec4<u32>(pos - ky * kw)) * u.cv + cvi) * 4u + vec4<u32>(0u, 1u, 2u, 3u);
    let xv = vec4<f32>(xf[at.x], xf[at.y], xf[at.z], xf[at.w]);
    let gv = select(${T}(0.0), g, xv * sc + sh > ${T}(0.0));
    a1 += gv;
    a2 += gv * (xv - meanT);`)}
  ${reduceAndCoefficients({ ...p, layout: 'NHWC' }, T, T, 'cvi', 'u.cv')}
  ${walk(`${window}
    for (var ky = 0u; ky < u.kh; ky++) {
      for (var kx = 0u; kx < u.kw; kx++) {
        let i = (corner + ky * u.w + kx) * u.cv + cvi;
        let xv = xs[i];
        let hit = (pos == vec4<f32>(f32(ky * u.kw + kx))) & (xv * sc + sh > ${T}(0.0));
        dxs[i] = k * select(${T}(0.0), g, hit) + k2 * xv + k3;
      }
    }`)}`;
  },
});

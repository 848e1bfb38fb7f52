import { defineKernel, range, type BufferBinding } from '../kernel.js';
import type { DataFormat } from '../kernel.js';
import { BN_WG, MEAN_ROW, INVSTD_ROW, SCALE_ROW, SHIFT_ROW, vecType, paramsType, tableRowLen, wideUniforms } from './batchnorm.js';

/**
 * The training backward of a batch norm in one dispatch: a workgroup owns a few channels
 * (channels-last: columns, a column being a channel vector, vec4 or scalar as batchnorm.ts says) and
 * 1. sums g' and g'·(x − mean) over its channels' elements (g' = g masked by the fused ReLU,
 *    recomputed from x), lanes reading consecutive vectors;
 * 2. adds the lanes' sums in workgroup memory;
 * 3. writes dx = k·g' + k2·x + k3 (the coefficients bn_channel_grads derives), and its first lanes
 *    the weight and bias gradients.
 * Where a lane's share of the channel is at most BN_BACKWARD_CACHE vectors (`cached`), step 1 keeps
 * x and g' in registers and step 3 reads nothing again. This replaces the partial-sum pass and the
 * dx pass that adds its channel's partials (two dispatches) where the channels give enough
 * workgroups (core's batchnorm/plan.ts).
 *
 A workgroup owns `cols` channels (a power of two up to BN_WG) with lanes = BN_WG / cols lanes
 * each. Channels-first, lane l takes channel q·cols + l / lanes (workgroup q), its vectors l % lanes,
 * l % lanes + lanes, … (consecutive lanes, consecutive vectors); channels-last, lane l takes column
 * q·cols + l % cols over rows l / cols, l / cols + lanes, … (a row's columns side by side). g may be a channel slice of a wider
 * tensor (batchnorm.ts's wide uniforms); dx is x's own shape.
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
    : `let col = wid.x * u.cols + lindex % u.cols;
  let owned = col < u.cv;
  let chc = min(col, u.cv - 1u);`;
  return `${place}
  let mean = ${at(MEAN_ROW)};
  let meanT = ${T}(mean);
  ${p.relu ? `let sc = ${T}(${at(SCALE_ROW)});\n  let sh = ${T}(${at(SHIFT_ROW)});` : ''}
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);`;
}

/**
 * A lane's walk over its vectors without a division per vector (lavapipe scalarises integer
 * division): channels-first, vector j = lindex + q·BN_WG at plane `plane`, offset `s`; channels-last,
 * row `r`. Returns [declarations, loop test, advance, element index, wide-g index].
 */
function walk(p: { layout: DataFormat }): [string, string, string, string, string] {
  if (p.layout === 'NCHW') {
    return [
      `let stepPlanes = lanes / u.sv;
  let stepS = lanes % u.sv;
  let jEnd = select(0u, u.perChannel, owned);`,
      'j < jEnd',
      `j += lanes; s += stepS; plane += stepPlanes; if (s >= u.sv) { s -= u.sv; plane += 1u; }`,
      'plane * u.planeStride + c * u.sv + s',
      'plane * u.widePlane + u.wideOffset + c * u.sv + s',
    ];
  }
  // Lanes off the tensor's columns take no rows.
  return [`let rEnd = select(0u, u.rows, owned);
  let rStep = ${BN_WG}u / u.cols;`, 'j < rEnd', 'j += rStep;', 'j * u.cv + col', 'j * u.wideRow + u.wideCol + col'];
}

/** Starts (or restarts) the walk at the lane's first vector. */
const walkStart = (p: { layout: DataFormat }, decl: string) => (p.layout === 'NCHW'
  ? `${decl} j = slot; ${decl} plane = slot / u.sv; ${decl} s = slot % u.sv;`
  : `${decl} j = lindex / u.cols;`);

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
    const [decls, test, advance, i, iw] = walk(p);
    if (p.cached) {
      // Unrolled: the lane's vectors stay in registers from the sums to dx.
      const loads = range(BN_BACKWARD_CACHE).map((q) => `let on${q} = ${test};
  let i${q} = select(0u, ${i}, on${q});
  ${loadTerms(p, T, `i${q}`, `select(0u, ${iw}, on${q})`, `${q}`, `on${q}`)}
  a1 += gv${q}; a2 += gv${q} * (xv${q} - meanT);
  ${advance}`);
      return `
  ${head(p, T)}
  ${decls}
  ${walkStart(p, 'var')}
  ${loads.join('\n  ')}
  ${coefficients}
  ${range(BN_BACKWARD_CACHE).map((q) => `if (on${q}) { dxs[i${q}] = k * gv${q} + k2 * xv${q} + k3; }`).join('\n  ')}`;
    }
    if (nchw) {
      // Uncached channels-first lanes take a run of consecutive vectors each, walked plane by plane
      // as bn_partial_sums does (fewer loop-carried values than the strided walk; faster on lavapipe).
      const runs = (step: string) => `j = jFirst; plane = j / u.sv; s = j % u.sv;
  while (j < jLast) {
    let run = min(u.sv - s, jLast - j);
    let base = plane * u.planeStride + c * u.sv + s;
    let wideBase = plane * u.widePlane + u.wideOffset + c * u.sv + s;
    for (var t = 0u; t < run; t++) {
      ${step}
    }
    j += run; plane += 1u; s = 0u;
  }`;
      return `
  ${head(p, T)}
  let len = (u.perChannel + lanes - 1u) / lanes;
  let jFirst = select(u.perChannel, min(slot * len, u.perChannel), owned);
  let jLast = min(jFirst + len, u.perChannel);
  var j: u32; var plane: u32; var s: u32;
  ${runs(`${loadTerms(p, T, 'base + t', 'wideBase + t', '')}
      a1 += gv; a2 += gv * (xv - meanT);`)}
  ${coefficients}
  ${runs(`${loadTerms(p, T, 'base + t', 'wideBase + t', '')}
      dxs[base + t] = k * gv + k2 * xv + k3;`)}`;
    }
    return `
  ${head(p, T)}
  ${decls}
  ${walkStart(p, 'var')}
  while (${test}) {
    ${loadTerms(p, T, i, iw, '')}
    a1 += gv; a2 += gv * (xv - meanT);
    ${advance}
  }
  ${coefficients}
  ${walkStart(p, '')}
  while (${test}) {
    let i = ${i};
    ${loadTerms(p, T, 'i', iw, '')}
    dxs[i] = k * gv + k2 * xv + k3;
    ${advance}
  }`;
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
    const window = `let t = r / u.ow;
    let corner = t * u.kh * u.w + (r - t * u.ow) * u.kw;
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
  let end = select(0u, u.rows, owned);
  var a1 = ${T}(0.0);
  var a2 = ${T}(0.0);
  for (var r = lindex / u.cols; r < end; r += ${BN_WG}u / u.cols) {
    ${window}
    // positions hold ky·kw + kx as small exact floats: ky = floor((pos + ½) / kw) is exact.
    let ky = floor((pos + vec4<f32>(0.5)) / kw);
    let at = (vec4<u32>(corner) + vec4<u32>(ky) * u.w + vec4<u32>(pos - ky * kw)) * u.cv + cvi;
    let xv = vec4<f32>(xs[at.x].x, xs[at.y].y, xs[at.z].z, xs[at.w].w);
    let gv = select(${T}(0.0), g, xv * sc + sh > ${T}(0.0));
    a1 += gv;
    a2 += gv * (xv - meanT);
  }
  ${reduceAndCoefficients({ ...p, layout: 'NHWC' }, T, T, 'cvi', 'u.cv')}
  for (var r = lindex / u.cols; r < end; r += ${BN_WG}u / u.cols) {
    ${window}
    for (var ky = 0u; ky < u.kh; ky++) {
      for (var kx = 0u; kx < u.kw; kx++) {
        let i = (corner + ky * u.w + kx) * u.cv + cvi;
        let xv = xs[i];
        let hit = (pos == vec4<f32>(f32(ky * u.kw + kx))) & (xv * sc + sh > ${T}(0.0));
        dxs[i] = k * select(${T}(0.0), g, hit) + k2 * xv + k3;
      }
    }
  }`;
  },
});

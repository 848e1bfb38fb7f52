import { defineKernel, linearIndex } from '../kernel.js';

/**
 * 2-D pooling kernels. Each invocation handles one row: an output row in the forward, an input
 * row in the backward (which only that invocation writes, so no atomics). Rows rather than
 * elements because integer division by a uniform is scalarised on lavapipe and decomposing every
 * element's index was a large share of the cost; along a row the window bounds advance without
 * division. Channels-first (NCHW) rows are H×W planes' rows of scalars;
 * channels-last (NHWC) rows are one channel vector (vec4 when C % 4 == 0: `vec`) along a row.
 */
export type PoolOp = 'max' | 'avg';

export const POOL_WG = 64;

export interface PoolForwardParams {
  op: PoolOp;
  channelsLast: boolean;
  vec: boolean;
  /** max only: also write, per output, the window position (ky·kw + kx) of its first maximum. */
  savePositions: boolean;
  /** avg only, present when true: divide by the window's extent within the padded input (PyTorch's count_include_pad). */
  includePad?: true;
}

export interface PoolBackwardParams { op: PoolOp; channelsLast: boolean; vec: boolean; includePad?: true }

/**
 * WGSL: an average window's divisor. The valid elements (`[kyStart, kyEnd)` × `[kxStart, kxEnd)`),
 * or with `includePad` the window clipped only at the far edge of the padded input (padding is
 * symmetric then: padTop below, padTop above).
 */
const avgDivisor = (includePad: boolean | undefined, rowCount: string) => (includePad
  ? 'f32(u32(min(y0 + i32(u.kh), i32(u.h + u.padTop)) - y0) * u32(min(x0 + i32(u.kw), i32(u.w + u.padLeft)) - x0))'
  : `f32(${rowCount} * (kxEnd - kxStart))`);

const poolUniforms = () => [
  /** rows to compute (invocations) */
  { name: 'count', type: 'u32' as const },
  /** vectors per pixel: C/4 or C for channels-last, 1 for channels-first */
  { name: 'cv', type: 'u32' as const },
  { name: 'h', type: 'u32' as const }, { name: 'w', type: 'u32' as const },
  { name: 'oh', type: 'u32' as const }, { name: 'ow', type: 'u32' as const },
  { name: 'kh', type: 'u32' as const }, { name: 'kw', type: 'u32' as const },
  { name: 'sh', type: 'u32' as const }, { name: 'sw', type: 'u32' as const },
  { name: 'padTop', type: 'u32' as const }, { name: 'padLeft', type: 'u32' as const },
];

const vecType = (vec: boolean): 'vec4<f32>' | 'f32' => (vec ? 'vec4<f32>' : 'f32');

/** Rows of the forward (output rows) or the backward (input rows). */
export function poolRows(channelsLast: boolean, lanesOrImages: number, rows: number, cv: number): number {
  return channelsLast ? lanesOrImages * rows * cv : lanesOrImages * rows;
}

/**
 * WGSL splitting the row index `idx` of an [lanes, rows] (channels-first: lane = image·C + channel)
 * or [images, rows, cv] (channels-last) grid into `row`, `rowLinear` (the row of this tensor,
 * without the channel vector), `cvi` and the offsets `inBase`/`outBase` of its plane (or image +
 * channel vector) in the input and output tensors; `pix` is the stride between pixels.
 */
function decomposeRow(channelsLast: boolean, rows: string): string {
  if (!channelsLast) {
    return `let rowLinear = idx;
  let row = idx % ${rows};
  let lane = idx / ${rows};
  let cvi = 0u;
  let pix = 1u;
  let inBase = lane * u.h * u.w;
  let outBase = lane * u.oh * u.ow;`;
  }
  return `let cvi = idx % u.cv;
  let rowLinear = idx / u.cv;
  let row = rowLinear % ${rows};
  let image = rowLinear / ${rows};
  let pix = u.cv;
  let inBase = image * u.h * u.w * u.cv + cvi;
  let outBase = image * u.oh * u.ow * u.cv + cvi;`;
}

/** WGSL: the valid rows [kyStart, kyEnd) of the windows of output row `oy` (padding is never read). */
const windowRows = (oy: string) => `let y0 = i32(${oy} * u.sh) - i32(u.padTop);
  let kyStart = u32(max(0, -y0));
  let kyEnd = u32(min(i32(u.kh), i32(u.h) - y0));`;
/** WGSL: the valid columns [kxStart, kxEnd) of the window of output column `ox`. */
const windowCols = (ox: string) => `let x0 = i32(${ox} * u.sw) - i32(u.padLeft);
    let kxStart = u32(max(0, -x0));
    let kxEnd = u32(min(i32(u.kw), i32(u.w) - x0));`;

export const poolForwardKernel = defineKernel<PoolForwardParams>({
  name: 'pool_forward',
  bindings: (p) => [
    { name: 'xs', type: vecType(p.vec), access: 'read' },
    { name: 'ys', type: vecType(p.vec), access: 'read_write' },
    ...(p.savePositions ? [{ name: 'positions', type: vecType(p.vec), access: 'read_write' as const }] : []),
  ],
  uniforms: poolUniforms,
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const at = (ky: string, kx: string) => `xs[inBase + ((u32(y0) + ${ky}) * u.w + u32(x0) + ${kx}) * pix]`;
    // The max starts at the window's first valid element and moves only on a strictly greater
    // value, so ties keep the first maximum in row-major order (as PyTorch).
    const window = p.op === 'max'
      ? `var best = ${at('kyStart', 'kxStart')};
    var pos = ${T}(f32(kyStart * u.kw + kxStart));
    for (var ky = kyStart; ky < kyEnd; ky++) {
      for (var kx = kxStart; kx < kxEnd; kx++) {
        let v = ${at('ky', 'kx')};
        let better = v > best;
        best = select(best, v, better);
        ${p.savePositions ? `pos = select(pos, ${T}(f32(ky * u.kw + kx)), better);` : ''}
      }
    }
    ys[o] = best;
    ${p.savePositions ? 'positions[o] = pos;' : ''}`
      : `var total = ${T}(0.0);
    for (var ky = kyStart; ky < kyEnd; ky++) {
      for (var kx = kxStart; kx < kxEnd; kx++) {
        total += ${at('ky', 'kx')};
      }
    }
    ys[o] = total / ${avgDivisor(p.includePad, '(kyEnd - kyStart)')};`;
    return `
  let idx = ${linearIndex(POOL_WG)};
  if (idx >= u.count) { return; }
  ${decomposeRow(p.channelsLast, 'u.oh')}
  ${windowRows('row')}
  for (var ox = 0u; ox < u.ow; ox++) {
    ${windowCols('ox')}
    let o = (rowLinear * u.ow + ox) * pix + cvi;
    ${window}
  }`;
  },
});

/**
 * dx along one input row, which the invocation owns (so it may accumulate into it without atomics).
 * In padded coordinates the element sits at (py, px) and window o covers [o·s, o·s + k).
 * - gather (avg, and max on vec4): each element sums over the windows containing it — avg
 *   g / the valid count, max g where the saved first-max position is this element (four
 *   channels compared at once). The window columns [oxStart, oxEnd) only move right along the
 *   row, so they advance without division.
 * - scatter (max on scalars): zero the row, then visit the windows of the output rows covering
 *   it and add each window's g at its first-max position when that lies in this row: one
 *   (g, position) load per window instead of one per (element, window) pair. Measured on
 *   lavapipe at 3×3 stride 2: 1.6–1.8× faster than gathering for scalars, slower for vec4
 *   (whose four channels' maxima would scatter to four places).
 */
export const poolBackwardKernel = defineKernel<PoolBackwardParams>({
  name: 'pool_backward',
  bindings: (p) => [
    { name: 'gs', type: vecType(p.vec), access: 'read' },
    ...(p.op === 'max' ? [{ name: 'positions', type: vecType(p.vec), access: 'read' as const }] : []),
    { name: 'dxs', type: vecType(p.vec), access: 'read_write' },
  ],
  uniforms: poolUniforms,
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const head = `
  let idx = ${linearIndex(POOL_WG)};
  if (idx >= u.count) { return; }
  ${decomposeRow(p.channelsLast, 'u.h')}
  let rowStart = rowLinear * u.w * pix + cvi;
  let py = row + u.padTop;
  let oyStart = select((py - u.kh) / u.sh + 1u, 0u, py < u.kh);
  let oyEnd = min(py / u.sh + 1u, u.oh);`;
    if (p.op === 'max' && !p.vec) {
      // positions hold ky·kw + kx as small exact floats: ky = floor((pos + ½) / kw) is exact.
      return `${head}
  for (var ix = 0u; ix < u.w; ix++) { dxs[rowStart + ix * pix] = 0.0; }
  let kw = f32(u.kw);
  for (var oy = oyStart; oy < oyEnd; oy++) {
    let kyHere = f32(py - oy * u.sh);
    for (var ox = 0u; ox < u.ow; ox++) {
      let og = outBase + (oy * u.ow + ox) * pix;
      let pos = positions[og];
      let ky = floor((pos + 0.5) / kw);
      if (ky == kyHere) { dxs[rowStart + (ox * u.sw + u32(pos - ky * kw) - u.padLeft) * pix] += gs[og]; }
    }
  }`;
    }
    const contribution = p.op === 'max'
      ? `let pos = f32((py - oy * u.sh) * u.kw + px - ox * u.sw);
        acc += select(${T}(0.0), gs[og], positions[og] == ${T}(pos));`
      : `${windowCols('ox')}
        acc += gs[og] / ${avgDivisor(p.includePad, 'rowCount')};`;
    return `${head}
  var oxStart = 0u;
  var oxEnd = 0u;
  for (var ix = 0u; ix < u.w; ix++) {
    let px = ix + u.padLeft;
    while (oxStart * u.sw + u.kw <= px) { oxStart++; }
    while (oxEnd < u.ow && oxEnd * u.sw <= px) { oxEnd++; }
    var acc = ${T}(0.0);
    for (var oy = oyStart; oy < oyEnd; oy++) {
      ${p.op === 'avg' ? `${windowRows('oy')}
      let rowCount = kyEnd - kyStart;` : ''}
      for (var ox = oxStart; ox < oxEnd; ox++) {
        let og = outBase + (oy * u.ow + ox) * pix;
        ${contribution}
      }
    }
    dxs[rowStart + ix * pix] = acc;
  }`;
  },
});

/**
 * Max-pool backward when the windows tile the input exactly (kernel == stride, no padding, every
 * input element in one window: SqueezeNet's 2×2/2 pools). One invocation per output row, like the
 * forward: each window's g and saved position are read once and its kh·kw inputs written directly
 * (g at the first maximum, 0 elsewhere) — two loads per window where the general gather makes two
 * per input element. Measured on lavapipe over 10 SqueezeNet training steps (GPU timestamps): the
 * three max-pool backwards 218 → 137 ms in NHWC, 296 → 191 ms in NCHW.
 */
export const maxPoolBackwardTilesKernel = defineKernel<{ channelsLast: boolean; vec: boolean }>({
  name: 'max_pool_backward_tiles',
  bindings: (p) => [
    { name: 'gs', type: vecType(p.vec), access: 'read' },
    { name: 'positions', type: vecType(p.vec), access: 'read' },
    { name: 'dxs', type: vecType(p.vec), access: 'read_write' },
  ],
  uniforms: poolUniforms,
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    return `
  let idx = ${linearIndex(POOL_WG)};
  if (idx >= u.count) { return; }
  ${decomposeRow(p.channelsLast, 'u.oh')}
  for (var ox = 0u; ox < u.ow; ox++) {
    let o = (rowLinear * u.ow + ox) * pix + cvi;
    let g = gs[o];
    let pos = positions[o];
    for (var ky = 0u; ky < u.kh; ky++) {
      let inRow = inBase + ((row * u.kh + ky) * u.w + ox * u.kw) * pix;
      for (var kx = 0u; kx < u.kw; kx++) {
        dxs[inRow + kx * pix] = select(${T}(0.0), g, pos == ${T}(f32(ky * u.kw + kx)));
      }
    }
  }`;
  },
});

/**
 * The loop both pairs kernels run: one output row per invocation, `q` over its vec4s of outputs;
 * `first` is the vec4 index of the window's top-left input, `o` that of the four outputs.
 */
const pairsRowLoop = (body: string): string => `
  let idx = ${linearIndex(POOL_WG)};
  if (idx >= u.count) { return; }
  ${decomposeRow(false, 'u.oh')}
  let w4 = u.w / 4u;
  let ow4 = u.ow / 4u;
  for (var q = 0u; q < ow4; q++) {
    let first = (inBase / 4u) + row * u.kh * w4 + 2u * q;
    let o = (outBase / 4u) + row * ow4 + q;
    ${body}
  }`;

/**
 * Channels-first max pooling with windows two wide that tile the input (kw == sw == 2, kh == sh, no
 * padding, OW % 4 == 0): vec4 along a row instead of scalars. Each invocation takes one output row;
 * four outputs read two vec4 per window row, the even and odd columns being the two window
 * columns. Ties keep the first maximum in row-major order (strictly greater moves it), positions
 * are ky·2 + kx as in poolForwardKernel. Over 8 traced NCHW SqueezeNet steps on lavapipe: forward
 * 145 → 71 ms, backward 148 → 78 ms against the scalar row kernels.
 */
export const maxPoolPairsForwardKernel = defineKernel<{ savePositions: boolean }>({
  name: 'max_pool_pairs_forward',
  bindings: (p) => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
    ...(p.savePositions ? [{ name: 'positions', type: 'vec4<f32>' as const, access: 'read_write' as const }] : []),
  ],
  uniforms: poolUniforms,
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => pairsRowLoop(`let a0 = xs[first];
    let b0 = xs[first + 1u];
    var best = vec4<f32>(a0.x, a0.z, b0.x, b0.z);
    var pos = vec4<f32>(0.0);
    for (var ky = 0u; ky < u.kh; ky++) {
      let a = xs[first + ky * w4];
      let b = xs[first + ky * w4 + 1u];
      let even = vec4<f32>(a.x, a.z, b.x, b.z);
      let odd = vec4<f32>(a.y, a.w, b.y, b.w);
      let betterEven = even > best;
      best = select(best, even, betterEven);
      pos = select(pos, vec4<f32>(f32(ky * 2u)), betterEven);
      let betterOdd = odd > best;
      best = select(best, odd, betterOdd);
      pos = select(pos, vec4<f32>(f32(ky * 2u + 1u)), betterOdd);
    }
    ys[o] = best;
    ${p.savePositions ? 'positions[o] = pos;' : ''}`),
});

/** The backward of maxPoolPairsForwardKernel: each window's g to its saved position, vec4 along rows. */
export const maxPoolPairsBackwardKernel = defineKernel<Record<string, never>>({
  name: 'max_pool_pairs_backward',
  bindings: () => [
    { name: 'gs', type: 'vec4<f32>', access: 'read' },
    { name: 'positions', type: 'vec4<f32>', access: 'read' },
    { name: 'dxs', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: poolUniforms,
  workgroupSize: () => [POOL_WG, 1, 1],
  body: () => pairsRowLoop(`let g = gs[o];
    let pos = positions[o];
    for (var ky = 0u; ky < u.kh; ky++) {
      let even = select(vec4<f32>(0.0), g, pos == vec4<f32>(f32(ky * 2u)));
      let odd = select(vec4<f32>(0.0), g, pos == vec4<f32>(f32(ky * 2u + 1u)));
      dxs[first + ky * w4] = vec4<f32>(even.x, odd.x, even.y, odd.y);
      dxs[first + ky * w4 + 1u] = vec4<f32>(even.z, odd.z, even.w, odd.w);
    }`),
});

export interface GlobalPoolParams { channelsLast: boolean; vec: boolean }

/**
 * Mean over the S = H·W pixels per (image, channel) → [N, C]. Channels-first: one invocation per
 * plane (vec4 along the plane when S % 4 == 0); channels-last: one per (image, channel vector).
 */
export const globalAvgPoolKernel = defineKernel<GlobalPoolParams>({
  name: 'global_avg_pool',
  bindings: (p) => [
    { name: 'xs', type: vecType(p.vec), access: 'read' },
    { name: 'ys', type: p.channelsLast ? vecType(p.vec) : 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    /** outputs to compute, in vectors */
    { name: 'count', type: 'u32' },
    /** vectors per plane (channels-first) or pixels (channels-last) */
    { name: 'sv', type: 'u32' },
    { name: 'cv', type: 'u32' },
    { name: 'invS', type: 'f32' },
  ],
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const walk = p.channelsLast
      ? `let base = (o / u.cv) * u.sv * u.cv + o % u.cv;
  for (var s = 0u; s < u.sv; s++) { total += xs[base + s * u.cv]; }
  ys[o] = total * u.invS;`
      : `let base = o * u.sv;
  for (var s = 0u; s < u.sv; s++) { total += xs[base + s]; }
  ys[o] = ${p.vec ? 'dot(total, vec4<f32>(1.0))' : 'total'} * u.invS;`;
    return `
  let o = ${linearIndex(POOL_WG)};
  if (o >= u.count) { return; }
  var total = ${T}(0.0);
  ${walk}`;
  },
});

/** dx = g / S broadcast over each plane's pixels (the global average pool's backward). */
export const globalAvgPoolBackwardKernel = defineKernel<GlobalPoolParams>({
  name: 'global_avg_pool_backward',
  bindings: (p) => [
    { name: 'gs', type: p.channelsLast ? vecType(p.vec) : 'f32', access: 'read' },
    { name: 'dxs', type: vecType(p.vec), access: 'read_write' },
  ],
  uniforms: () => [{ name: 'count', type: 'u32' }, { name: 'sv', type: 'u32' }, { name: 'cv', type: 'u32' }, { name: 'invS', type: 'f32' }],
  workgroupSize: () => [POOL_WG, 1, 1],
  body: (p) => {
    const T = vecType(p.vec);
    const g = p.channelsLast ? 'gs[(i / (u.sv * u.cv)) * u.cv + i % u.cv]' : `${T}(gs[i / u.sv])`;
    return `
  let i = ${linearIndex(POOL_WG)};
  if (i >= u.count) { return; }
  dxs[i] = ${g} * u.invS;`;
  },
});

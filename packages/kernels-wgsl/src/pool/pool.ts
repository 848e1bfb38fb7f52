import { defineKernel, linearIndex } from '../kernel.js';

/**
 * 2-D pooling kernels, one invocation per output (forward) or per input element (backward, which
 * gathers from the windows that contain the element, so no atomics). Channels-first (NCHW) walks
 * planes of H×W scalars; channels-last (NHWC) reads a vec4 of channels at each pixel when
 * C % 4 == 0 (`vec`), scalars otherwise. Geometry (sizes, window, stride, padding) is uniform.
 */
export type PoolOp = 'max' | 'avg';

export const POOL_WG = 64;

export interface PoolForwardParams {
  op: PoolOp;
  channelsLast: boolean;
  vec: boolean;
  /** max only: also write, per output, the window position (ky·kw + kx) of its first maximum. */
  savePositions: boolean;
}

export interface PoolBackwardParams { op: PoolOp; channelsLast: boolean; vec: boolean }

const poolUniforms = () => [
  /** outputs (forward) or inputs (backward) to compute, in vectors */
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

/**
 * WGSL splitting linear index `i` of an [lanes, rows, cols] (channels-first) or
 * [n, rows, cols, cv] (channels-last) tensor into `row`, `col` and the offsets `inBase`/`outBase`
 * of its (plane | image+channel-vector) in the input and output tensors, plus the pixel stride.
 */
function decompose(channelsLast: boolean, i: string, rows: string, cols: string): string {
  if (!channelsLast) {
    return `let col = ${i} % ${cols};
  let rest = ${i} / ${cols};
  let row = rest % ${rows};
  let lane = rest / ${rows};
  let inBase = lane * u.h * u.w;
  let outBase = lane * u.oh * u.ow;
  let pix = 1u;`;
  }
  return `let cvi = ${i} % u.cv;
  let rest = ${i} / u.cv;
  let col = rest % ${cols};
  let rest2 = rest / ${cols};
  let row = rest2 % ${rows};
  let image = rest2 / ${rows};
  let inBase = image * u.h * u.w * u.cv + cvi;
  let outBase = image * u.oh * u.ow * u.cv + cvi;
  let pix = u.cv;`;
}

/**
 * WGSL for the valid part [kyStart, kyEnd) × [kxStart, kxEnd) of the window of output
 * (oy, ox): padding is never read, and avg divides by the valid count (TensorFlow SAME rule).
 */
const windowBounds = (oy: string, ox: string) => `let y0 = i32(${oy} * u.sh) - i32(u.padTop);
  let x0 = i32(${ox} * u.sw) - i32(u.padLeft);
  let kyStart = u32(max(0, -y0));
  let kyEnd = u32(min(i32(u.kh), i32(u.h) - y0));
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
    const loop = p.op === 'max'
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
  ys[o] = total / f32((kyEnd - kyStart) * (kxEnd - kxStart));`;
    return `
  let o = ${linearIndex(POOL_WG)};
  if (o >= u.count) { return; }
  ${decompose(p.channelsLast, 'o', 'u.oh', 'u.ow')}
  let oy = row;
  let ox = col;
  ${windowBounds('oy', 'ox')}
  ${loop}`;
  },
});

/**
 * dx for one input element: the sum over the windows containing it of g (max: only where the
 * saved first-max position is this element; avg: g / the window's valid count).
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
    const contribution = p.op === 'max'
      ? `let pos = f32((py - oy * u.sh) * u.kw + px - ox * u.sw);
      acc += select(${T}(0.0), gs[og], positions[og] == ${T}(pos));`
      : `${windowBounds('oy', 'ox')}
      acc += gs[og] / f32((kyEnd - kyStart) * (kxEnd - kxStart));`;
    return `
  let i = ${linearIndex(POOL_WG)};
  if (i >= u.count) { return; }
  ${decompose(p.channelsLast, 'i', 'u.h', 'u.w')}
  // In padded coordinates the element sits at (py, px); window o covers [o·s, o·s + k).
  let py = row + u.padTop;
  let px = col + u.padLeft;
  let oyStart = select((py - u.kh) / u.sh + 1u, 0u, py < u.kh);
  let oyEnd = min(py / u.sh + 1u, u.oh);
  let oxStart = select((px - u.kw) / u.sw + 1u, 0u, px < u.kw);
  let oxEnd = min(px / u.sw + 1u, u.ow);
  var acc = ${T}(0.0);
  for (var oy = oyStart; oy < oyEnd; oy++) {
    for (var ox = oxStart; ox < oxEnd; ox++) {
      let og = outBase + (oy * u.ow + ox) * pix;
      ${contribution}
    }
  }
  dxs[i] = acc;`;
  },
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

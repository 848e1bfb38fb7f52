import { defineKernel, linearIndex } from '../kernel.js';
import { BN_WG } from './batchnorm.js';
import { channelGradCoefficients, derivedConstants, derivedSumsBindings, derivedSumsUniforms, gradSumsBindings, gradSumsUniforms, type BnDerivedSums, type BnGradSumsParams } from './batchnorm-apply.js';

/**
 * maxPool(relu(batchNorm(x))) for training, when the pooling windows tile x exactly (kernel ==
 * stride, no padding) and x is channels-last with C % 4 == 0 — conv1 → pool1 of SqueezeNet, whose
 * 32×32×96 activation is the largest of the network. Unfused, that activation crosses memory eight
 * times a step (the normalised output written and read back by the pool, the pool's gradient
 * written at full size and read twice by the batch-norm backward); here the normalised values exist
 * only in registers and the gradient stays pooled:
 * - forward: each window's inputs are normalised, rectified and maxed in one pass, writing the
 *   pooled output and the window position (ky·kw + kx, as f32 like the pool kernels) of its first
 *   maximum — the same value and position the separate kernels give, ties included.
 * - backward: g' (the gradient at the normalised output) is the pooled gradient at each window's
 *   saved position where the ReLU was active, 0 elsewhere. Its batch-norm sums need x at that one
 *   position per window (`bnReluMaxPoolGradSumsKernel`); dx = k·g' + k2·x + k3 (coefficients from
 *   bn_channel_grads, or derived from the sums by the dx kernel itself) is written window by window
 *   (`bnReluMaxPoolDxKernel`).
 * Tensors are vec4 along channels: x and dx [n·h·w, cv], pooled ones [n·oh·ow, cv], cv = C/4; the
 * parameter table is [4, C] (mean, 1/std, scale, shift) and the coefficients [3, C], read as rows
 * of cv vec4s. The pooled output y and its gradient g may be a channel slice of a wider tensor
 * (several branches pooled into one concatenation, as batchnorm.ts's wide tensors): rows of
 * `wideRow` vec4s with ours from vec4 `wideCol`; the saved positions are always our own [n·oh·ow, cv].
 */
const MEAN_ROW = 0;
const SCALE_ROW = 2;
const SHIFT_ROW = 3;

const windowUniforms = () => [
  /** invocations: n·oh·cv (one pooled row of one channel vector each) */
  { name: 'count', type: 'u32' as const },
  { name: 'cv', type: 'u32' as const },
  { name: 'w', type: 'u32' as const }, { name: 'ow', type: 'u32' as const },
  { name: 'kh', type: 'u32' as const }, { name: 'kw', type: 'u32' as const },
  /** the pooled y / g: vec4s per row, and our first (cv and 0 for a tensor of its own) */
  { name: 'wideRow', type: 'u32' as const }, { name: 'wideCol', type: 'u32' as const },
];

/**
 * Shared head of the forward and dx kernels: invocation → channel vector `cvi` and pooled row `t`
 * (image·oh + oy), whose windows' top-left input pixel is t·kh·w + ox·kw (the windows tile x).
 */
const rowHead = (constants: string) => `
  let idx = ${linearIndex(BN_WG)};
  if (idx >= u.count) { return; }
  let cvi = idx % u.cv;
  let t = idx / u.cv;
  ${constants}
  for (var ox = 0u; ox < u.ow; ox++) {
    let corner = t * u.kh * u.w + ox * u.kw;
    let o = (t * u.ow + ox) * u.cv + cvi;
    let oWide = (t * u.ow + ox) * u.wideRow + u.wideCol + cvi;`;

const row = (r: number) => `params[${r}u * u.cv + cvi]`;

/**
 * The fused forward. `fromSums`: the table derived from partial sums by each invocation, pooled row 0
 * (of image 0) writing it and updating the running statistics, as bn_apply's fromSums does.
 */
export const bnReluMaxPoolForwardKernel = defineKernel<{ savePositions: boolean; fromSums?: BnDerivedSums }>({
  name: 'bn_relu_max_pool',
  bindings: (p) => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    ...(p.fromSums ? derivedSumsBindings(p.fromSums, 'vec4<f32>') : []),
    { name: 'params', type: 'vec4<f32>', access: p.fromSums ? 'read_write' : 'read' },
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
    ...(p.savePositions ? [{ name: 'positions', type: 'vec4<f32>' as const, access: 'read_write' as const }] : []),
  ],
  uniforms: (p) => [...windowUniforms(), ...(p.fromSums ? derivedSumsUniforms() : [])],
  workgroupSize: () => [BN_WG, 1, 1],
  // The max starts at the window's first element and moves only on a strictly greater value, so
  // ties (many zeros after the ReLU) keep the first maximum in row-major order, as maxPool2d does.
  body: (p) => `${rowHead(p.fromSums
    ? derivedConstants(p, 'vec4<f32>', 'vec4<f32>', 'cvi', 'u.cv', 't == 0u', 'xs[cvi]')
    : `let sc = ${row(SCALE_ROW)};
  let sh = ${row(SHIFT_ROW)};`)}
    var best = max(xs[corner * u.cv + cvi] * sc + sh, vec4<f32>(0.0));
    var pos = vec4<f32>(0.0);
    for (var ky = 0u; ky < u.kh; ky++) {
      for (var kx = 0u; kx < u.kw; kx++) {
        let v = max(xs[(corner + ky * u.w + kx) * u.cv + cvi] * sc + sh, vec4<f32>(0.0));
        let better = v > best;
        best = select(best, v, better);
        pos = select(pos, vec4<f32>(f32(ky * u.kw + kx)), better);
      }
    }
    ys[oWide] = best;
    ${p.savePositions ? 'positions[o] = pos;' : ''}
  }`,
});

/**
 * Partial sums [2, parts, C] of g' and g'·(x − mean) over the windows (see batchnorm.ts's 'grad'
 * mode, which bn_channel_grads turns into the coefficients): invocation (part, cvi) walks pooled
 * pixels part·CHUNK …, loading per window the pooled gradient, the saved position and — one float
 * per channel, at that channel's position — x.
 */
export const bnReluMaxPoolGradSumsKernel = defineKernel<Record<string, never>>({
  name: 'bn_relu_max_pool_grad_sums',
  bindings: () => [
    /** x as scalars: each channel of a vector reads its own window position */
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'gs', type: 'vec4<f32>', access: 'read' },
    { name: 'positions', type: 'vec4<f32>', access: 'read' },
    { name: 'params', type: 'vec4<f32>', access: 'read' },
    { name: 'partials', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    /** pooled pixels n·oh·ow, and how many each partial sums */
    { name: 'rows', type: 'u32' },
    { name: 'parts', type: 'u32' },
    { name: 'chunk', type: 'u32' },
    // the window geometry, without the row kernels' invocation count
    ...windowUniforms().filter((f) => f.name !== 'count'),
  ],
  workgroupSize: () => [BN_WG, 1, 1],
  body: () => `
  let idx = ${linearIndex(BN_WG)};
  if (idx >= u.cv * u.parts) { return; }
  let cvi = idx % u.cv;
  let part = idx / u.cv;
  let mean = ${row(MEAN_ROW)};
  let sc = ${row(SCALE_ROW)};
  let sh = ${row(SHIFT_ROW)};
  let kw = f32(u.kw);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  let rStart = part * u.chunk;
  let rEnd = min(rStart + u.chunk, u.rows);
  // (t, ox): the pooled row and column of pixel r, advanced without division.
  var t = rStart / u.ow;
  var ox = rStart % u.ow;
  for (var r = rStart; r < rEnd; r++) {
    let o = r * u.cv + cvi;
    let pos = positions[o];
    // positions hold ky·kw + kx as small exact floats: ky = floor((pos + ½) / kw) is exact.
    let ky = floor((pos + vec4<f32>(0.5)) / kw);
    let offset = vec4<u32>(ky) * u.w + vec4<u32>(pos - ky * kw);
    let corner = t * u.kh * u.w + ox * u.kw;
    let first = (corner * u.cv + cvi) * 4u;
    let stride = u.cv * 4u;
    let xv = vec4<f32>(xs[first + offset.x * stride], xs[first + offset.y * stride + 1u],
                       xs[first + offset.z * stride + 2u], xs[first + offset.w * stride + 3u]);
    let gv = select(vec4<f32>(0.0), gs[r * u.wideRow + u.wideCol + cvi], xv * sc + sh > vec4<f32>(0.0));
    a1 += gv;
    a2 += gv * (xv - mean);
    ox += 1u;
    if (ox == u.ow) { ox = 0u; t += 1u; }
  }
  partials[part * u.cv + cvi] = a1;
  partials[(u.parts + part) * u.cv + cvi] = a2;`,
});

/**
 * dx = k·g' + k2·x + k3 over every input, one window at a time (g' as in the file comment); `sums`:
 * k, k2, k3 and the affine gradients from the grad-sums partials (BnGradSumsParams) instead of coefs.
 */
export const bnReluMaxPoolDxKernel = defineKernel<{ sums?: BnGradSumsParams }>({
  name: 'bn_relu_max_pool_dx',
  bindings: (p) => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'gs', type: 'vec4<f32>', access: 'read' },
    { name: 'positions', type: 'vec4<f32>', access: 'read' },
    { name: 'params', type: 'vec4<f32>', access: 'read' },
    ...(p.sums ? gradSumsBindings(p.sums, 'vec4<f32>') : [{ name: 'coefs', type: 'vec4<f32>' as const, access: 'read' as const }]),
    { name: 'dxs', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: (p) => [...windowUniforms(), ...(p.sums ? gradSumsUniforms() : [])],
  workgroupSize: () => [BN_WG, 1, 1],
  // With sums, pooled row 0 (of image 0) writes each channel's affine gradients.
  body: (p) => `${rowHead(`let sc = ${row(SCALE_ROW)};
  let sh = ${row(SHIFT_ROW)};
  ${p.sums ? channelGradCoefficients(p.sums, 'vec4<f32>', 'vec4<f32>', 'cvi', 'u.cv', 't == 0u') : `let k = coefs[cvi];
  let k2 = coefs[u.cv + cvi];
  let k3 = coefs[2u * u.cv + cvi];`}`)}
    let g = gs[oWide];
    let pos = positions[o];
    for (var ky = 0u; ky < u.kh; ky++) {
      for (var kx = 0u; kx < u.kw; kx++) {
        let i = (corner + ky * u.w + kx) * u.cv + cvi;
        let xv = xs[i];
        let hit = (pos == vec4<f32>(f32(ky * u.kw + kx))) & (xv * sc + sh > vec4<f32>(0.0));
        dxs[i] = k * select(vec4<f32>(0.0), g, hit) + k2 * xv + k3;
      }
    }
  }`,
});

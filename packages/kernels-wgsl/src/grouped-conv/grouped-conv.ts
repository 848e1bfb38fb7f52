import { defineKernel, linearIndex, linearWorkgroupIndex, type UniformField } from '../kernel.js';

/**
 * Direct grouped and dilated 2-D convolution (PyTorch's `groups`, `dilation`): x [N, C, H, W] or
 * [N, H, W, C], w [O, C/groups, KH, KW] in both layouts, output channel o reading the input
 * channels of its group g = o / (O/groups). Depthwise convolutions (one input channel per group)
 * drop the channel loop, and in NHWC with whole vec4s of channels compute four channels per
 * invocation with vector loads. Like the pooling kernels, an invocation owns a row (of one image
 * and channel) and walks along it, since integer division by a uniform is slow on lavapipe and
 * decomposing every element's index would dominate.
 */
export const GROUPED_CONV_WG = 64;

export interface GroupedConvParams {
  channelsLast: boolean;
  /** one input channel per group: the channel loop is compiled away */
  depthwise: boolean;
}

export const GROUPED_CONV_UNIFORMS: UniformField[] = [
  'count', 'N', 'C', 'H', 'W', 'O', 'OH', 'OW', 'KH', 'KW', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft', 'cinPG', 'coutPG',
].map((name) => ({ name, type: name === 'padTop' || name === 'padLeft' ? 'i32' : 'u32' }));

/** WGSL index helpers for the tensor layouts (x: C channels of H×W, y: O channels of OH×OW). */
const indexing = (channelsLast: boolean) => `
fn xAt(n: u32, c: u32, h: u32, w: u32) -> u32 {
  return ${channelsLast ? '((n * u.H + h) * u.W + w) * u.C + c' : '((n * u.C + c) * u.H + h) * u.W + w'};
}
fn yAt(n: u32, o: u32, h: u32, w: u32) -> u32 {
  return ${channelsLast ? '((n * u.OH + h) * u.OW + w) * u.O + o' : '((n * u.O + o) * u.OH + h) * u.OW + w'};
}
fn wAt(o: u32, ci: u32, ky: u32, kx: u32) -> u32 { return ((o * u.cinPG + ci) * u.KH + ky) * u.KW + kx; }`;

/** WGSL: decomposes row `i` into (n, ch, h_) of a tensor with `channels` channels of `height` rows. */
const decomposeRow = (channelsLast: boolean, channels: string, height: string) => (channelsLast ? `
  let ch = i % ${channels};
  let h_ = (i / ${channels}) % ${height};
  let n = i / (${channels} * ${height});` : `
  let h_ = i % ${height};
  let ch = (i / ${height}) % ${channels};
  let n = i / (${height} * ${channels});`);

/** y = conv(x, w) + bias, one output row (image, channel, oy) per invocation; `count` = N·O·OH. */
export const groupedConvForwardKernel = defineKernel<GroupedConvParams & { bias: boolean }>({
  name: 'grouped_conv_forward',
  bindings: (p) => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'ws', type: 'f32', access: 'read' },
    ...(p.bias ? [{ name: 'bs', type: 'f32', access: 'read' } as const] : []),
    { name: 'ys', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  prelude: (p) => indexing(p.channelsLast),
  body: (p) => `
  let i = ${linearIndex(GROUPED_CONV_WG)};
  if (i >= u.count) { return; }${decomposeRow(p.channelsLast, 'u.O', 'u.OH')}
  let o = ch;
  let c0 = (o / u.coutPG) * u.cinPG;
  for (var ox = 0u; ox < u.OW; ox++) {
    var acc = ${p.bias ? 'bs[o]' : '0.0'};
    for (var ky = 0u; ky < u.KH; ky++) {
      let iy = i32(h_ * u.sh + ky * u.dh) - u.padTop;
      if (iy < 0 || iy >= i32(u.H)) { continue; }
      for (var kx = 0u; kx < u.KW; kx++) {
        let ix = i32(ox * u.sw + kx * u.dw) - u.padLeft;
        if (ix < 0 || ix >= i32(u.W)) { continue; }
        ${p.depthwise
    ? 'acc += xs[xAt(n, c0, u32(iy), u32(ix))] * ws[wAt(o, 0u, ky, kx)];'
    : 'for (var ci = 0u; ci < u.cinPG; ci++) { acc += xs[xAt(n, c0 + ci, u32(iy), u32(ix))] * ws[wAt(o, ci, ky, kx)]; }'}
      }
    }
    ys[yAt(n, o, h_, ox)] = acc;
  }`,
});

/**
 * Depthwise forward in NHWC with O == C and C % 4 == 0: four neighbouring channels of one output
 * row per invocation (`count` = N·OH·C/4), x and y moved as vec4s.
 */
export const depthwiseConvForwardVec4Kernel = defineKernel<{ bias: boolean }>({
  name: 'depthwise_conv_forward_vec4',
  bindings: (p) => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'ws', type: 'f32', access: 'read' },
    ...(p.bias ? [{ name: 'bs', type: 'vec4<f32>', access: 'read' } as const] : []),
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  body: (p) => `
  let i = ${linearIndex(GROUPED_CONV_WG)};
  if (i >= u.count) { return; }
  let C4 = u.C / 4u;
  let cv = i % C4;
  let h_ = (i / C4) % u.OH;
  let n = i / (C4 * u.OH);
  let kk = u.KH * u.KW;
  let o = cv * 4u;
  for (var ox = 0u; ox < u.OW; ox++) {
    var acc = ${p.bias ? 'bs[cv]' : 'vec4<f32>(0.0)'};
    for (var ky = 0u; ky < u.KH; ky++) {
      let iy = i32(h_ * u.sh + ky * u.dh) - u.padTop;
      if (iy < 0 || iy >= i32(u.H)) { continue; }
      for (var kx = 0u; kx < u.KW; kx++) {
        let ix = i32(ox * u.sw + kx * u.dw) - u.padLeft;
        if (ix < 0 || ix >= i32(u.W)) { continue; }
        let t = ky * u.KW + kx;
        let wv = vec4<f32>(ws[o * kk + t], ws[(o + 1u) * kk + t], ws[(o + 2u) * kk + t], ws[(o + 3u) * kk + t]);
        acc += xs[((n * u.H + u32(iy)) * u.W + u32(ix)) * C4 + cv] * wv;
      }
    }
    ys[((n * u.OH + h_) * u.OW + ox) * C4 + cv] = acc;
  }`,
});

/**
 * dx[n, c, iy, ix] = Σ dy[n, o, oy, ox]·w[o, c − c0, ky, kx] over the output channels o of c's
 * group and the taps with oy·sh + ky·dh − padTop = iy (likewise x). One input row (image, channel,
 * iy) per invocation (`count` = N·C·H), which it owns: it zeroes the row, then for each kernel row
 * that reaches an output row adds that row's contributions along x.
 */
export const groupedConvBackwardDataKernel = defineKernel<GroupedConvParams>({
  name: 'grouped_conv_backward_data',
  bindings: () => [
    { name: 'dys', type: 'f32', access: 'read' },
    { name: 'ws', type: 'f32', access: 'read' },
    { name: 'dxs', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  prelude: (p) => indexing(p.channelsLast),
  body: (p) => `
  let i = ${linearIndex(GROUPED_CONV_WG)};
  if (i >= u.count) { return; }${decomposeRow(p.channelsLast, 'u.C', 'u.H')}
  let g = ch / u.cinPG;
  let ci = ch - g * u.cinPG;
  for (var ix = 0u; ix < u.W; ix++) { dxs[xAt(n, ch, h_, ix)] = 0.0; }
  for (var ky = 0u; ky < u.KH; ky++) {
    let ty = i32(h_) + u.padTop - i32(ky * u.dh);
    if (ty < 0 || ty % i32(u.sh) != 0) { continue; }
    let oy = u32(ty) / u.sh;
    if (oy >= u.OH) { continue; }
    for (var kx = 0u; kx < u.KW; kx++) {
      for (var m = 0u; m < u.coutPG; m++) {
        let o = g * u.coutPG + m;
        let wv = ws[wAt(o, ci, ky, kx)];
        // ix = ox·sw + kx·dw − padLeft for ox in [0, OW), within [0, W)
        for (var ox = 0u; ox < u.OW; ox++) {
          let ix = i32(ox * u.sw + kx * u.dw) - u.padLeft;
          if (ix < 0) { continue; }
          if (ix >= i32(u.W)) { break; }
          let at = xAt(n, ch, h_, u32(ix));
          dxs[at] = dxs[at] + dys[yAt(n, o, oy, ox)] * wv;
        }
      }
    }
  }`,
});

/**
 * dw[o, ci, ky, kx] = Σ over n, oy, ox of dy[n, o, oy, ox]·x[n, c0 + ci, iy, ix]: one workgroup per
 * weight element, its invocations striding over the N·OH·OW terms, then a tree sum in workgroup
 * memory (a depthwise filter has few weights and long sums).
 */
export const groupedConvBackwardFilterKernel = defineKernel<GroupedConvParams>({
  name: 'grouped_conv_backward_filter',
  bindings: () => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'dys', type: 'f32', access: 'read' },
    { name: 'dws', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  prelude: (p) => `${indexing(p.channelsLast)}
var<workgroup> partial: array<f32, ${GROUPED_CONV_WG}>;`,
  body: () => `
  let e = ${linearWorkgroupIndex};
  let valid = e < u.count;
  let kx = e % u.KW;
  let ky = (e / u.KW) % u.KH;
  let ci = (e / (u.KW * u.KH)) % u.cinPG;
  let o = e / (u.KW * u.KH * u.cinPG);
  let c = (o / u.coutPG) * u.cinPG + ci;
  var acc = 0.0;
  // invocations take output rows (n, oy) in turn and walk along them
  let rows = select(0u, u.N * u.OH, valid);
  for (var r = lid.x; r < rows; r += ${GROUPED_CONV_WG}u) {
    let oy = r % u.OH;
    let n = r / u.OH;
    let iy = i32(oy * u.sh + ky * u.dh) - u.padTop;
    if (iy < 0 || iy >= i32(u.H)) { continue; }
    for (var ox = 0u; ox < u.OW; ox++) {
      let ix = i32(ox * u.sw + kx * u.dw) - u.padLeft;
      if (ix < 0) { continue; }
      if (ix >= i32(u.W)) { break; }
      acc += dys[yAt(n, o, oy, ox)] * xs[xAt(n, c, u32(iy), u32(ix))];
    }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${GROUPED_CONV_WG / 2}u; s > 0u; s = s / 2u) {
    if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }
    workgroupBarrier();
  }
  if (valid && lid.x == 0u) { dws[e] = partial[0]; }`,
});

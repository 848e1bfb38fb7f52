import { defineKernel, linearIndex, type UniformField } from '../kernel.js';

/**
 * The straightforward convolution kernels: one output element per invocation, direct loops. They
 * are the correctness oracle of the fast kernels (tests, benchmark), not what the op dispatches.
 * Activations are addressed through strides given in (n, c, h, w) order, so one pipeline serves NCHW
 * and NHWC; weights are [out, in, kh, kw].
 */
export const SIMPLE_CONV_WG = 64;

const geometry: UniformField[] = [
  { name: 'xStrides', type: 'u32array', length: 4 },
  { name: 'yStrides', type: 'u32array', length: 4 },
  { name: 'N', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'H', type: 'u32' }, { name: 'W', type: 'u32' },
  { name: 'O', type: 'u32' }, { name: 'KH', type: 'u32' }, { name: 'KW', type: 'u32' },
  { name: 'OH', type: 'u32' }, { name: 'OW', type: 'u32' },
  { name: 'strideH', type: 'u32' }, { name: 'strideW', type: 'u32' },
  { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
  { name: 'total', type: 'u32' },
];

/** Offsets of x (input) and y (output) elements through their strides. */
const addressing = `
fn xAt(n: u32, c: u32, h: u32, w: u32) -> u32 { return n * xStrides(0u) + c * xStrides(1u) + h * xStrides(2u) + w * xStrides(3u); }
fn yAt(n: u32, c: u32, h: u32, w: u32) -> u32 { return n * yStrides(0u) + c * yStrides(1u) + h * yStrides(2u) + w * yStrides(3u); }`;

/** y[n, o, oh, ow] = bias[o] + Σ_{c, kh, kw} x[n, c, oh·s + kh − pad, ow·s + kw − pad] · w[o, c, kh, kw]. */
export const conv2dForwardSimpleKernel = defineKernel<{ bias: boolean }>({
  name: 'conv2d_forward_simple',
  bindings: (p) => [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'w', type: 'f32', access: 'read' },
    ...(p.bias ? [{ name: 'bias', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'y', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => geometry,
  workgroupSize: () => [SIMPLE_CONV_WG, 1, 1],
  prelude: () => addressing,
  body: (p) => `
  let i = ${linearIndex(SIMPLE_CONV_WG)};
  if (i >= u.total) { return; }
  let ow = i % u.OW;
  let oh = (i / u.OW) % u.OH;
  let o = (i / (u.OW * u.OH)) % u.O;
  let n = i / (u.OW * u.OH * u.O);
  var acc = ${p.bias ? 'bias[o]' : '0.0'};
  for (var c = 0u; c < u.C; c++) {
    for (var kh = 0u; kh < u.KH; kh++) {
      let ih = i32(oh * u.strideH + kh) - i32(u.padTop);
      if (ih < 0 || ih >= i32(u.H)) { continue; }
      for (var kw = 0u; kw < u.KW; kw++) {
        let iw = i32(ow * u.strideW + kw) - i32(u.padLeft);
        if (iw < 0 || iw >= i32(u.W)) { continue; }
        acc += x[xAt(n, c, u32(ih), u32(iw))] * w[((o * u.C + c) * u.KH + kh) * u.KW + kw];
      }
    }
  }
  y[yAt(n, o, oh, ow)] = acc;`,
});

/**
 * dx[n, c, ih, iw] = Σ_{o, kh, kw} dy[n, o, oh, ow] · w[o, c, kh, kw] over the taps where
 * ih = oh·s + kh − pad has an integer solution oh inside the output (likewise for iw).
 */
export const conv2dBackwardDataSimpleKernel = defineKernel<Record<string, never>>({
  name: 'conv2d_backward_data_simple',
  bindings: () => [
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'w', type: 'f32', access: 'read' },
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => geometry,
  workgroupSize: () => [SIMPLE_CONV_WG, 1, 1],
  prelude: () => addressing,
  body: () => `
  let i = ${linearIndex(SIMPLE_CONV_WG)};
  if (i >= u.total) { return; }
  let iw = i % u.W;
  let ih = (i / u.W) % u.H;
  let c = (i / (u.W * u.H)) % u.C;
  let n = i / (u.W * u.H * u.C);
  var acc = 0.0;
  for (var kh = 0u; kh < u.KH; kh++) {
    let th = i32(ih + u.padTop) - i32(kh);
    if (th < 0 || th % i32(u.strideH) != 0 || th / i32(u.strideH) >= i32(u.OH)) { continue; }
    let oh = u32(th) / u.strideH;
    for (var kw = 0u; kw < u.KW; kw++) {
      let tw = i32(iw + u.padLeft) - i32(kw);
      if (tw < 0 || tw % i32(u.strideW) != 0 || tw / i32(u.strideW) >= i32(u.OW)) { continue; }
      let ow = u32(tw) / u.strideW;
      for (var o = 0u; o < u.O; o++) {
        acc += dy[yAt(n, o, oh, ow)] * w[((o * u.C + c) * u.KH + kh) * u.KW + kw];
      }
    }
  }
  dx[xAt(n, c, ih, iw)] = acc;`,
});

/** dw[o, c, kh, kw] = Σ_{n, oh, ow} dy[n, o, oh, ow] · x[n, c, oh·s + kh − pad, ow·s + kw − pad]. */
export const conv2dBackwardFilterSimpleKernel = defineKernel<Record<string, never>>({
  name: 'conv2d_backward_filter_simple',
  bindings: () => [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'dw', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => geometry,
  workgroupSize: () => [SIMPLE_CONV_WG, 1, 1],
  prelude: () => addressing,
  body: () => `
  let i = ${linearIndex(SIMPLE_CONV_WG)};
  if (i >= u.total) { return; }
  let kw = i % u.KW;
  let kh = (i / u.KW) % u.KH;
  let c = (i / (u.KW * u.KH)) % u.C;
  let o = i / (u.KW * u.KH * u.C);
  var acc = 0.0;
  for (var n = 0u; n < u.N; n++) {
    for (var oh = 0u; oh < u.OH; oh++) {
      let ih = i32(oh * u.strideH + kh) - i32(u.padTop);
      if (ih < 0 || ih >= i32(u.H)) { continue; }
      for (var ow = 0u; ow < u.OW; ow++) {
        let iw = i32(ow * u.strideW + kw) - i32(u.padLeft);
        if (iw < 0 || iw >= i32(u.W)) { continue; }
        acc += dy[yAt(n, o, oh, ow)] * x[xAt(n, c, u32(ih), u32(iw))];
      }
    }
  }
  dw[i] = acc;`,
});

/** db[o] = Σ_{n, oh, ow} dy[n, o, oh, ow]. */
export const conv2dBiasGradSimpleKernel = defineKernel<Record<string, never>>({
  name: 'conv2d_bias_grad_simple',
  bindings: () => [
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'db', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => geometry,
  workgroupSize: () => [SIMPLE_CONV_WG, 1, 1],
  prelude: () => addressing,
  body: () => `
  let o = ${linearIndex(SIMPLE_CONV_WG)};
  if (o >= u.total) { return; }
  var acc = 0.0;
  for (var n = 0u; n < u.N; n++) {
    for (var oh = 0u; oh < u.OH; oh++) {
      for (var ow = 0u; ow < u.OW; ow++) { acc += dy[yAt(n, o, oh, ow)]; }
    }
  }
  db[o] = acc;`,
});

import { defineKernel, linearIndex, linearWorkgroupIndex } from '../kernel.js';
import { GROUPED_CONV_UNIFORMS, GROUPED_CONV_WG } from './grouped-conv.js';

/**
 * Depthwise convolution with stride 1 and no dilation (O == C, one input channel per group), the
 * kernel size compiled in: an invocation owns a row and slides a KH×KW window of inputs along it in
 * registers, loading one new column per output instead of every tap, with the weights held in
 * registers too. The same kernel computes the input gradient (the convolution of dy with the
 * flipped filter, padded KH−1−padTop, KW−1−padLeft), and the filter gradient kernel slides the same
 * window over x while a workgroup per channel sums all KH·KW taps at once.
 */
export interface DepthwiseParams {
  channelsLast: boolean;
  kh: number;
  kw: number;
}

/** The largest kernel side the sliding kernels take (KH·KW window registers per invocation). */
export const DEPTHWISE_MAX_K = 7;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const taps = (p: DepthwiseParams) => range(p.kh).flatMap((ky) => range(p.kw).map((kx) => [ky, kx] as const));

/** WGSL for the layout: src is C channels of H×W (`src` binding), dst C channels of OH×OW. */
const indexing = (channelsLast: boolean) => `
fn srcAt(n: u32, c: u32, h: u32, w: u32) -> u32 {
  return ${channelsLast ? '((n * u.H + h) * u.W + w) * u.C + c' : '((n * u.C + c) * u.H + h) * u.W + w'};
}
fn dstAt(n: u32, c: u32, h: u32, w: u32) -> u32 {
  return ${channelsLast ? '((n * u.OH + h) * u.OW + w) * u.C + c' : '((n * u.C + c) * u.OH + h) * u.OW + w'};
}`;

/** WGSL: row `i` as (n, c, h_) of a tensor with C channels of `height` rows. */
const decomposeRow = (channelsLast: boolean, height: string) => (channelsLast ? `
  let c = i % u.C;
  let h_ = (i / u.C) % ${height};
  let n = i / (u.C * ${height});` : `
  let h_ = i % ${height};
  let c = (i / ${height}) % u.C;
  let n = i / (${height} * u.C);`);

/** WGSL: the source rows iy_ky of output row h_ with their validity, and the load of one window column. */
const windowRows = (p: DepthwiseParams) => range(p.kh).map((ky) => `
  let iy${ky} = i32(h_) + ${ky} - u.padTop;
  let ok${ky} = iy${ky} >= 0 && iy${ky} < i32(u.H);
  let ry${ky} = u32(clamp(iy${ky}, 0, i32(u.H) - 1));`).join('');
const loadColumn = (p: DepthwiseParams, kx: number, ix: string) => `
    {
      let ix = ${ix};
      let okx = ix >= 0 && ix < i32(u.W);
      let cx = u32(clamp(ix, 0, i32(u.W) - 1));${range(p.kh).map((ky) => `
      v${ky}_${kx} = select(0.0, src[srcAt(n, c, ry${ky}, cx)], okx && ok${ky});`).join('')}
    }`;
const declareWindow = (p: DepthwiseParams) => taps(p).map(([ky, kx]) => `var v${ky}_${kx} = 0.0;`).join(' ');
const shiftWindow = (p: DepthwiseParams) => range(p.kh).flatMap((ky) => range(p.kw - 1).map((kx) => `v${ky}_${kx} = v${ky}_${kx + 1};`)).join(' ');

/**
 * dst = src ⋆ w, one destination row (n, c, oy) per invocation (`count` = N·C·OH); with `flip` the
 * filter is read rotated by 180°, which makes this the input gradient of the forward convolution.
 */
export const depthwiseSlidingKernel = defineKernel<DepthwiseParams & { flip: boolean; bias: boolean }>({
  name: 'depthwise_conv_sliding',
  bindings: (p) => [
    { name: 'src', type: 'f32', access: 'read' },
    { name: 'ws', type: 'f32', access: 'read' },
    ...(p.bias ? [{ name: 'bs', type: 'f32', access: 'read' } as const] : []),
    { name: 'dst', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  prelude: (p) => indexing(p.channelsLast),
  body: (p) => {
    const kk = p.kh * p.kw;
    const weight = (ky: number, kx: number) => (p.flip ? kk - 1 - (ky * p.kw + kx) : ky * p.kw + kx);
    return `
  let i = ${linearIndex(GROUPED_CONV_WG)};
  if (i >= u.count) { return; }${decomposeRow(p.channelsLast, 'u.OH')}
  let wb = c * ${kk}u;
  ${taps(p).map(([ky, kx]) => `let w${ky}_${kx} = ws[wb + ${weight(ky, kx)}u];`).join('\n  ')}${windowRows(p)}
  ${declareWindow(p)}
  let x0 = -u.padLeft;${range(p.kw - 1).map((kx) => loadColumn(p, kx, `x0 + ${kx}`)).join('')}
  for (var ox = 0u; ox < u.OW; ox++) {${loadColumn(p, p.kw - 1, `x0 + i32(ox) + ${p.kw - 1}`)}
    dst[dstAt(n, c, h_, ox)] = ${p.bias ? 'bs[c] + ' : ''}${taps(p).map(([ky, kx]) => `v${ky}_${kx} * w${ky}_${kx}`).join(' + ')};
    ${shiftWindow(p)}
  }`;
  },
});

/**
 * dw[c, ky, kx] = Σ over n, oy, ox of dy[n, c, oy, ox]·x[n, c, oy + ky − padTop, ox + kx − padLeft]:
 * one workgroup per channel (`count` = C), its invocations taking rows (n, oy) in turn and sliding
 * the window of x along them, then a tree sum of the KH·KW partial sums in workgroup memory.
 * Bindings follow the sliding kernel's names: src = x (H×W), dy has the OH×OW destination shape.
 */
export const depthwiseFilterGradKernel = defineKernel<DepthwiseParams>({
  name: 'depthwise_conv_filter_grad',
  bindings: () => [
    { name: 'src', type: 'f32', access: 'read' },
    { name: 'dys', type: 'f32', access: 'read' },
    { name: 'dws', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GROUPED_CONV_UNIFORMS,
  workgroupSize: () => [GROUPED_CONV_WG, 1, 1],
  prelude: (p) => `${indexing(p.channelsLast)}
var<workgroup> partial: array<f32, ${GROUPED_CONV_WG * p.kh * p.kw}>;`,
  body: (p) => {
    const kk = p.kh * p.kw;
    return `
  let c = ${linearWorkgroupIndex};
  let valid = c < u.count;
  ${taps(p).map(([ky, kx]) => `var a${ky}_${kx} = 0.0;`).join(' ')}
  let rows = select(0u, u.N * u.OH, valid);
  for (var r = lid.x; r < rows; r += ${GROUPED_CONV_WG}u) {
    let h_ = r % u.OH;
    let n = r / u.OH;${windowRows(p)}
    ${declareWindow(p)}
    let x0 = -u.padLeft;${range(p.kw - 1).map((kx) => loadColumn(p, kx, `x0 + ${kx}`)).join('')}
    for (var ox = 0u; ox < u.OW; ox++) {${loadColumn(p, p.kw - 1, `x0 + i32(ox) + ${p.kw - 1}`)}
      let g = dys[dstAt(n, c, h_, ox)];
      ${taps(p).map(([ky, kx]) => `a${ky}_${kx} += g * v${ky}_${kx};`).join(' ')}
      ${shiftWindow(p)}
    }
  }
  ${taps(p).map(([ky, kx]) => `partial[${ky * p.kw + kx}u * ${GROUPED_CONV_WG}u + lid.x] = a${ky}_${kx};`).join('\n  ')}
  workgroupBarrier();
  for (var s = ${GROUPED_CONV_WG / 2}u; s > 0u; s = s / 2u) {
    if (lid.x < s) {
      for (var t = 0u; t < ${kk}u; t++) { partial[t * ${GROUPED_CONV_WG}u + lid.x] += partial[t * ${GROUPED_CONV_WG}u + lid.x + s]; }
    }
    workgroupBarrier();
  }
  if (valid && lid.x < ${kk}u) { dws[c * ${kk}u + lid.x] = partial[lid.x * ${GROUPED_CONV_WG}u]; }`;
  },
});

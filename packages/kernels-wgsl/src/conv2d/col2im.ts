import { defineKernel, gridWorkgroupSize, range } from '../kernel.js';
import type { DataFormat } from '../kernel.js';

export interface ConvCol2imParams {
  layout: DataFormat;
  /** input channels C, a compile-time constant: each invocation writes all of one pixel's (C is small where this runs). */
  C: number;
}

/**
 * Backward-data's second half when it runs as dcols = dy · w (a plain GEMM over [pixels, O] ×
 * [O, C·KH·KW]) for a convolution with few input channels, where the implicit GEMM would leave most
 * of its channel tile idle: dx[n, h, w, c] = Σ over the taps (kh, kw) that map output pixel
 * (oh, ow) onto (h, w) of dcols[(n·OH + oh)·OW + ow][c][kh][kw]. A gather, no atomics.
 * Uniforms: dx sizes (H, W), dy sizes (OH, OW), the kernel, strides and top/left padding.
 * Dispatch gridWorkgroups(W, H, N, workgroup).
 */
export const convCol2imKernel = defineKernel<ConvCol2imParams & { workgroup: number }>({
  name: 'conv2d_col2im',
  bindings: () => [
    { name: 'dcols', type: 'f32', access: 'read' },
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'H', type: 'u32' }, { name: 'W', type: 'u32' }, { name: 'OH', type: 'u32' }, { name: 'OW', type: 'u32' },
    { name: 'KH', type: 'u32' }, { name: 'KW', type: 'u32' },
    { name: 'strideH', type: 'u32' }, { name: 'strideW', type: 'u32' }, { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const cs = range(p.C);
    const dxAt = (c: number) => (p.layout === 'NCHW'
      ? `((n * ${p.C}u + ${c}u) * u.H + h) * u.W + w`
      : `((n * u.H + h) * u.W + w) * ${p.C}u + ${c}u`);
    return `
  let w = gid.x;
  let h = gid.y;
  let n = gid.z;
  if (w >= u.W || h >= u.H) { return; }
${cs.map((c) => `  var s${c} = 0.0;`).join('\n')}
  let taps = u.KH * u.KW;
  for (var kh = 0u; kh < u.KH; kh++) {
    // output row oh reads input row oh·strideH + kh − padTop = h.
    let th = i32(h + u.padTop) - i32(kh);
    let oh = th / i32(u.strideH);
    if (th < 0 || oh * i32(u.strideH) != th || oh >= i32(u.OH)) { continue; }
    for (var kw = 0u; kw < u.KW; kw++) {
      let tw = i32(w + u.padLeft) - i32(kw);
      let ow = tw / i32(u.strideW);
      if (tw < 0 || ow * i32(u.strideW) != tw || ow >= i32(u.OW)) { continue; }
      let at = ((n * u.OH + u32(oh)) * u.OW + u32(ow)) * ${p.C}u * taps + kh * u.KW + kw;
${cs.map((c) => `      s${c} += dcols[at + ${c}u * taps];`).join('\n')}
    }
  }
${cs.map((c) => `  dx[${dxAt(c)}] = s${c};`).join('\n')}`;
  },
});

import type { Shape } from '../../tensor.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

export type Conv2dPadding = 'SAME' | 'VALID' | number | [[number, number], [number, number]];

/** The options that decide a convolution's sizes. */
export interface Conv2dShapeOptions {
  stride?: number | [number, number];
  /** SAME follows TensorFlow: total pad max((ceil(H/s)−1)·s + k − H, 0), the odd pixel at the bottom/right. */
  padding?: Conv2dPadding;
  dataFormat?: DataFormat;
}

/** Every size a convolution needs, resolved once from the shapes and options. */
export interface Conv2dGeometry {
  dataFormat: DataFormat;
  N: number; C: number; H: number; W: number;
  O: number; KH: number; KW: number;
  OH: number; OW: number;
  strideH: number; strideW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
}

/** Resolves shapes and options; x is [N, C, H, W] or [N, H, W, C], w is [O, C, KH, KW] in both formats. */
export function conv2dGeometry(xShape: Shape, wShape: Shape, opts: Conv2dShapeOptions = {}): Conv2dGeometry {
  const dataFormat = opts.dataFormat ?? 'NCHW';
  if (xShape.length !== 4) throw new Error(`conv2d: x must be rank 4 (${dataFormat}), got [${xShape}]`);
  if (wShape.length !== 4) throw new Error(`conv2d: w must be [out, in, kh, kw], got [${wShape}]`);
  const [N, C, H, W] = dataFormat === 'NCHW' ? xShape : [xShape[0]!, xShape[3]!, xShape[1]!, xShape[2]!];
  const [O, wC, KH, KW] = wShape as [number, number, number, number];
  if (wC !== C) throw new Error(`conv2d: x [${xShape}] (${dataFormat}) has ${C} channels but w [${wShape}] expects ${wC}`);
  const [strideH, strideW] = typeof opts.stride === 'number' || opts.stride === undefined ? [opts.stride ?? 1, opts.stride ?? 1] : opts.stride;
  if (![strideH, strideW].every((s) => Number.isInteger(s) && s >= 1)) throw new Error(`conv2d: stride must be integers >= 1, got ${opts.stride}`);
  const padding = opts.padding ?? 'VALID';
  let pads: [number, number, number, number];
  let OH: number;
  let OW: number;
  if (padding === 'SAME') {
    OH = Math.ceil(H! / strideH);
    OW = Math.ceil(W! / strideW);
    const padH = Math.max((OH - 1) * strideH + KH - H!, 0);
    const padW = Math.max((OW - 1) * strideW + KW - W!, 0);
    pads = [Math.floor(padH / 2), padH - Math.floor(padH / 2), Math.floor(padW / 2), padW - Math.floor(padW / 2)];
  } else {
    pads = padding === 'VALID' ? [0, 0, 0, 0]
      : typeof padding === 'number' ? [padding, padding, padding, padding]
      : [padding[0][0], padding[0][1], padding[1][0], padding[1][1]];
    if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw new Error(`conv2d: padding must be integers >= 0, got ${JSON.stringify(padding)}`);
    OH = Math.floor((H! + pads[0] + pads[1] - KH) / strideH) + 1;
    OW = Math.floor((W! + pads[2] + pads[3] - KW) / strideW) + 1;
  }
  if (!(OH >= 1 && OW >= 1)) throw new Error(`conv2d: a ${KH}×${KW} kernel does not fit the ${H}×${W} input with padding ${JSON.stringify(padding)}`);
  return {
    dataFormat, N: N!, C: C!, H: H!, W: W!, O, KH, KW, OH, OW, strideH, strideW,
    padTop: pads[0], padBottom: pads[1], padLeft: pads[2], padRight: pads[3],
  };
}

export function conv2dOutputShape(g: Conv2dGeometry): number[] {
  return g.dataFormat === 'NCHW' ? [g.N, g.O, g.OH, g.OW] : [g.N, g.OH, g.OW, g.O];
}

export function conv2dInputShape(g: Conv2dGeometry): number[] {
  return g.dataFormat === 'NCHW' ? [g.N, g.C, g.H, g.W] : [g.N, g.H, g.W, g.C];
}

/** 1×1, stride 1, no padding: a plain GEMM over pixels × channels. */
export function isPointwise(g: Conv2dGeometry): boolean {
  return g.KH === 1 && g.KW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop + g.padBottom + g.padLeft + g.padRight === 0;
}

/** 3×3, stride 1 (any padding): the shape Winograd F(m×m, 3×3) computes. */
export function isWinogradShape(g: Conv2dGeometry): boolean {
  return g.KH === 3 && g.KW === 3 && g.strideH === 1 && g.strideW === 1;
}

/** NHWC, or NCHW images of one pixel (conv10's), which are laid out alike: [pixels, channels]. */
export function pixelsAsRows(g: Conv2dGeometry): boolean {
  return g.dataFormat === 'NHWC' || g.OH * g.OW === 1;
}

/** The source and destination sizes of forward (x → y) or backward-data (dy → dx), and dst's shape. */
export function convSides(fwd: boolean, g: Conv2dGeometry) {
  const [Hs, Ws, Cs] = fwd ? [g.H, g.W, g.C] : [g.OH, g.OW, g.O];
  const [Hd, Wd, Cd] = fwd ? [g.OH, g.OW, g.O] : [g.H, g.W, g.C];
  return { Hs, Ws, Cs, Hd, Wd, Cd, dstShape: fwd ? conv2dOutputShape(g) : conv2dInputShape(g) };
}

import type { Conv2dGeometry } from './geometry.js';

/** Plain float64 references of the convolution passes, in the geometry's data format. */

function indexer(format: Conv2dGeometry['dataFormat'], C: number, H: number, W: number) {
  return format === 'NCHW'
    ? (n: number, c: number, h: number, w: number) => ((n * C + c) * H + h) * W + w
    : (n: number, c: number, h: number, w: number) => ((n * H + h) * W + w) * C + c;
}

/** Calls f(n, o, oh, ow, c, ih, iw, kh, kw) for every product term of the convolution. */
function forEachTerm(g: Conv2dGeometry, f: (n: number, o: number, oh: number, ow: number, c: number, ih: number, iw: number, kh: number, kw: number) => void): void {
  for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
    for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) {
      const ih = oh * g.strideH + kh - g.padTop;
      if (ih < 0 || ih >= g.H) continue;
      for (let kw = 0; kw < g.KW; kw++) {
        const iw = ow * g.strideW + kw - g.padLeft;
        if (iw < 0 || iw >= g.W) continue;
        f(n, o, oh, ow, c, ih, iw, kh, kw);
      }
    }
  }
}

const wAt = (g: Conv2dGeometry, o: number, c: number, kh: number, kw: number) => ((o * g.C + c) * g.KH + kh) * g.KW + kw;

export function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: Conv2dGeometry): Float64Array {
  const xi = indexer(g.dataFormat, g.C, g.H, g.W);
  const yi = indexer(g.dataFormat, g.O, g.OH, g.OW);
  const y = new Float64Array(g.N * g.O * g.OH * g.OW);
  if (bias) for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) for (let h = 0; h < g.OH; h++) for (let v = 0; v < g.OW; v++) y[yi(n, o, h, v)] = bias[o]!;
  forEachTerm(g, (n, o, oh, ow, c, ih, iw, kh, kw) => { y[yi(n, o, oh, ow)] += x[xi(n, c, ih, iw)]! * w[wAt(g, o, c, kh, kw)]!; });
  return y;
}

export function conv2dBackwardDataRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: Conv2dGeometry): Float64Array {
  const xi = indexer(g.dataFormat, g.C, g.H, g.W);
  const yi = indexer(g.dataFormat, g.O, g.OH, g.OW);
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  forEachTerm(g, (n, o, oh, ow, c, ih, iw, kh, kw) => { dx[xi(n, c, ih, iw)] += dy[yi(n, o, oh, ow)]! * w[wAt(g, o, c, kh, kw)]!; });
  return dx;
}

export function conv2dBackwardFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Conv2dGeometry): Float64Array {
  const xi = indexer(g.dataFormat, g.C, g.H, g.W);
  const yi = indexer(g.dataFormat, g.O, g.OH, g.OW);
  const dw = new Float64Array(g.O * g.C * g.KH * g.KW);
  forEachTerm(g, (n, o, oh, ow, c, ih, iw, kh, kw) => { dw[wAt(g, o, c, kh, kw)] += dy[yi(n, o, oh, ow)]! * x[xi(n, c, ih, iw)]!; });
  return dw;
}

export function conv2dBiasGradRef(dy: ArrayLike<number>, g: Conv2dGeometry): Float64Array {
  const yi = indexer(g.dataFormat, g.O, g.OH, g.OW);
  const db = new Float64Array(g.O);
  for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) for (let h = 0; h < g.OH; h++) for (let v = 0; v < g.OW; v++) db[o] += dy[yi(n, o, h, v)]!;
  return db;
}

/** Reorders an NCHW array to NHWC (to compare the two formats). */
export function nchwToNhwc(a: ArrayLike<number>, N: number, C: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = a[((n * C + c) * H + h) * W + w]!;
  }
  return out;
}

import {
  conv2dForwardSimpleKernel, conv2dBackwardDataSimpleKernel, conv2dBackwardFilterSimpleKernel, conv2dBiasGradSimpleKernel,
  convWeightMatrixKernel, convGemmKernel, convFilterPartialKernel, convBiasPartialKernel, convPartialSumKernel,
  convWinogradKernel, winogradGemmFilterKernel, winogradInputKernel, winogradOutputKernel, winogradDyKernel, winogradFilterGradKernel,
  winogradInputGradKernel, winogradGatherKernel,
  convFilterPatchKernel, FILTER_PATCH_MAX, convCol2imKernel,
  convTuningFor, gemmTileFor, winogradTileFor, gridWorkgroups, linearWorkgroups, SIMPLE_CONV_WG, type ConvTuning,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Shape, type Tensor } from '../../tensor.js';
import { isGradEnabled, noGrad, record } from '../../autograd.js';
import { permute } from '../shape-ops/shape-ops.js';
import { roundUp } from '../shape.js';
import { subgroupSizeDividing } from '../../runtime/device.js';
import { defaultGemmTile, gemm } from '../matmul/gemm.js';

export type Conv2dDataFormat = 'NCHW' | 'NHWC';
export type Conv2dPadding = 'SAME' | 'VALID' | number | [[number, number], [number, number]];

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** SAME follows TensorFlow: total pad max((ceil(H/s)−1)·s + k − H, 0), the odd pixel at the bottom/right. */
  padding?: Conv2dPadding;
  dataFormat?: Conv2dDataFormat;
  /** [out] */
  bias?: Tensor;
  /** Tile shapes of the fast kernels; by default the adapter's (kernels-wgsl conv2d/tuning.ts). */
  tuning?: ConvTuning;
}

/** Every size a convolution needs, resolved once from the shapes and options. */
export interface Conv2dGeometry {
  dataFormat: Conv2dDataFormat;
  N: number; C: number; H: number; W: number;
  O: number; KH: number; KW: number;
  OH: number; OW: number;
  strideH: number; strideW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
}

/** Resolves shapes and options; x is [N, C, H, W] or [N, H, W, C], w is [O, C, KH, KW] in both formats. */
export function conv2dGeometry(xShape: Shape, wShape: Shape, opts: Omit<Conv2dOptions, 'bias' | 'tuning'> = {}): Conv2dGeometry {
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

function inputShape(g: Conv2dGeometry): number[] {
  return g.dataFormat === 'NCHW' ? [g.N, g.C, g.H, g.W] : [g.N, g.H, g.W, g.C];
}

/** 1×1, stride 1, no padding: a plain GEMM over pixels × channels. */
function isPointwise(g: Conv2dGeometry): boolean {
  return g.KH === 1 && g.KW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop + g.padBottom + g.padLeft + g.padRight === 0;
}

/**
 * The subgroup size for a kernel that shares loads across subgroups (`wanted` by the tuning), when
 * the device has a fixed one that divides every count given (tile widths, tiles, workgroup); else 0.
 */
function sharingSubgroup(rt: Tensor['runtime'], wanted: boolean | undefined, ...counts: number[]): number {
  return wanted ? subgroupSizeDividing(rt.description, ...counts) : 0;
}

/** The source and destination sizes of forward (x → y) or backward-data (dy → dx), and dst's shape. */
function convSides(fwd: boolean, g: Conv2dGeometry) {
  const [Hs, Ws, Cs] = fwd ? [g.H, g.W, g.C] : [g.OH, g.OW, g.O];
  const [Hd, Wd, Cd] = fwd ? [g.OH, g.OW, g.O] : [g.H, g.W, g.C];
  return { Hs, Ws, Cs, Hd, Wd, Cd, dstShape: fwd ? conv2dOutputShape(g) : inputShape(g) };
}

/** 3×3, stride 1: Winograd F(2×2, 3×3) applies to forward and backward-data (any padding). */
function isWinogradShape(g: Conv2dGeometry): boolean {
  return g.KH === 3 && g.KW === 3 && g.strideH === 1 && g.strideW === 1;
}

// ── the straightforward kernels: the oracle for tests and the benchmark ────────────────────────

/** Strides of (n, c, h, w) for a tensor of the geometry's format with the given sizes. */
function strides(format: Conv2dDataFormat, C: number, H: number, W: number): number[] {
  return format === 'NCHW' ? [C * H * W, H * W, W, 1] : [H * W * C, 1, W * C, C];
}

function simpleUniforms(g: Conv2dGeometry, total: number): Record<string, number | number[]> {
  return {
    xStrides: strides(g.dataFormat, g.C, g.H, g.W), yStrides: strides(g.dataFormat, g.O, g.OH, g.OW),
    N: g.N, C: g.C, H: g.H, W: g.W, O: g.O, KH: g.KH, KW: g.KW, OH: g.OH, OW: g.OW,
    strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, total,
  };
}

export function conv2dForwardSimple(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry): Tensor {
  const y = allocTensor(conv2dOutputShape(g));
  x.runtime.run(conv2dForwardSimpleKernel, { bias: bias !== null }, bias ? [x, w, bias, y] : [x, w, y],
    simpleUniforms(g, y.size), linearWorkgroups(y.size, SIMPLE_CONV_WG));
  return y;
}

export function conv2dBackwardDataSimple(dy: Tensor, w: Tensor, g: Conv2dGeometry): Tensor {
  const dx = allocTensor(inputShape(g));
  dy.runtime.run(conv2dBackwardDataSimpleKernel, {}, [dy, w, dx], simpleUniforms(g, dx.size), linearWorkgroups(dx.size, SIMPLE_CONV_WG));
  return dx;
}

export function conv2dBackwardFilterSimple(x: Tensor, dy: Tensor, g: Conv2dGeometry): Tensor {
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  x.runtime.run(conv2dBackwardFilterSimpleKernel, {}, [x, dy, dw], simpleUniforms(g, dw.size), linearWorkgroups(dw.size, SIMPLE_CONV_WG));
  return dw;
}

export function conv2dBiasGradSimple(dy: Tensor, g: Conv2dGeometry): Tensor {
  const db = allocTensor([g.O]);
  dy.runtime.run(conv2dBiasGradSimpleKernel, {}, [dy, db], simpleUniforms(g, g.O), linearWorkgroups(g.O, SIMPLE_CONV_WG));
  return db;
}

// ── the fast kernels: what the op dispatches ──────────────────────────────────────────────────

/**
 * Runs the implicit GEMM dst[p, d] = Σ src · wmat for forward (src = x, d = out channel) or
 * backward-data (src = dy, d = in channel). The weights are first reordered into wmat [taps][s][d].
 */
function gemmConv(
  mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning: ConvTuning,
  want: ForwardWants = {},
): { dst: Tensor; v: Tensor | null; u: Tensor | null; statistics: ChannelStatistics | null } {
  if (tuning.winogradGemm && isWinogradShape(g)) return winogradGemmConv(mode, src, w, bias, g, tuning, want);
  if (tuning.winograd && isWinogradShape(g)) return { dst: winogradConv(mode, src, w, bias, g, tuning), v: null, u: null, statistics: null };
  const rt = src.runtime;
  const fwd = mode === 'forward';
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const taps = g.KH * g.KW;
  const tile = gemmTileFor(tuning.gemm, Cd, Cs * taps, g.N * Hd * Wd);
  const CdPad = roundUp(Cd, tile.channels);
  const pointwise = isPointwise(g);
  const subgroupWeights = sharingSubgroup(rt, tile.subgroupWeights, tile.channels);
  // A 1×1 kernel's backward-data matrix (rows = out channels of C in-channel weights) is w itself
  // when no padding is needed; its forward reads w's columns lane by lane (weightsAsGiven): either
  // way w is bound as it is, no reorder pass.
  const weightsAsGiven = fwd && pointwise && subgroupWeights > 0 && (tile.weightsAsGiven ?? false);
  const wIsMatrix = weightsAsGiven || (!fwd && taps === 1 && CdPad === Cd);
  const wmat = wIsMatrix ? w : allocTensor([taps * Cs * CdPad]);
  if (!wIsMatrix) {
    rt.run(convWeightMatrixKernel, { workgroup: tuning.helperWorkgroup }, [w, wmat], {
      A: Cs, B: Cd, row4: CdPad / 4,
      // w[o][c][kh][kw]: the in-channel stride is taps, the out-channel stride C·taps.
      strideA: fwd ? taps : g.C * taps, strideB: fwd ? g.C * taps : taps,
    }, gridWorkgroups(CdPad / 4, Cs, taps, tuning.helperWorkgroup));
  }
  // NCHW images of one pixel in and out (conv10's) are laid out as NHWC: the NHWC kernel, with its
  // channel-wise vector loads and stores, runs them.
  const layout = g.dataFormat === 'NCHW' && Hs * Ws === 1 && Hd * Wd === 1 ? 'NHWC' : g.dataFormat;
  const nchw = layout === 'NCHW';
  const dst = allocTensor(dstShape);
  const pixels = g.N * Hd * Wd;
  const tilesP = Math.ceil(pixels / tile.pixels);
  // The statistics are summed per subgroup where the weights are shared by one (statisticsPerSubgroup).
  const perSubgroup = subgroupWeights > 0 && tile.workgroup % subgroupWeights === 0;
  const statistics = fwd ? outputStatistics(want, g, tuning, perSubgroup ? Math.ceil(tilesP / subgroupWeights) : tilesP) : null;
  rt.run(convGemmKernel, {
    mode, layout, tilePixels: tile.pixels, tileChannels: tile.channels, workgroup: tile.workgroup, pointwise,
    dstVec4: nchw ? (Hd * Wd) % 4 === 0 : Cd % 4 === 0,
    bias: bias !== null, unroll: tile.unroll[layout],
    subgroupWeights, ...(weightsAsGiven ? { weightsAsGiven } : {}),
    ...(fwd && Cs * taps <= (tile.fixedSourceMaxReduction?.[layout] ?? 0) ? { fixedSource: { Cs, KH: g.KH, KW: g.KW } } : {}),
    srcVec2: (tile.pairLoads ?? false) && !nchw && tile.unroll.NHWC === 2 && Cs % 2 === 0,
    srcVec4Pixels: (tile.pairLoads ?? false) && nchw && pointwise && (Hd * Wd) % tile.pixels === 0,
    ...(statistics ? { statistics: true, ...(perSubgroup ? { statisticsPerSubgroup: true } : {}) } : {}),
  }, [src, wmat, ...(bias ? [bias] : []), dst, ...(statistics ? [statistics.shift, statistics.partials] : [])], {
    Hs, Ws, Cs, Hd, Wd, Cd, KH: g.KH, KW: g.KW, strideH: g.strideH, strideW: g.strideW,
    padTop: g.padTop, padLeft: g.padLeft, pixels, tilesP, wRow4: CdPad / 4,
  }, [Math.ceil(tilesP / tile.workgroup), CdPad / tile.channels, 1], { mode, dataFormat: g.dataFormat, pointwise });
  if (!wIsMatrix) wmat.dispose();
  return { dst, v: null, u: null, statistics };
}

/**
 * U = G g Gᵀ of the 3×3 filter w into `out` ([α²][Apad][row4·4], winogradGemmFilterKernel): rows are
 * source channels, columns destination channels; backward-data flips the taps and swaps the channels.
 */
function transformFilter(w: Tensor, out: Tensor, d: { m: 2 | 4; fwd: boolean; Cs: number; Apad: number; Cd: number; row4: number; g: Conv2dGeometry; workgroup: number }): void {
  // w[o][c][kh][kw]: the in-channel stride is 9, the out-channel stride C·9.
  w.runtime.run(winogradGemmFilterKernel, { m: d.m, workgroup: d.workgroup, flip: !d.fwd }, [w, out], {
    A: d.Cs, Apad: d.Apad, B: d.Cd, row4: d.row4, strideA: d.fwd ? 9 : d.g.C * 9, strideB: d.fwd ? d.g.C * 9 : 9,
  }, gridWorkgroups(d.row4, d.Apad, 1, d.workgroup));
}

/**
 * Winograd F(2×2, 3×3) (kernels-wgsl conv2d/winograd.ts): the filter transformed once per call,
 * then one kernel per 2×2 destination tile. Backward-data is the forward convolution of dy with
 * the filter flipped and its channels swapped, padded by 2 − pad (a 3×3 kernel's "full" padding).
 */
function winogradConv(mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning: ConvTuning): Tensor {
  const rt = src.runtime;
  const tile = tuning.winograd!;
  const fwd = mode === 'forward';
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const CdPad = roundUp(Cd, tile.channels);
  const rowVec4s = Cs * CdPad / 4;
  const wino = allocTensor([16 * Cs * CdPad]);
  transformFilter(w, wino, { m: 2, fwd, Cs, Apad: Cs, Cd, row4: CdPad / 4, g, workgroup: tuning.helperWorkgroup });
  const nchw = g.dataFormat === 'NCHW';
  const dst = allocTensor(dstShape);
  const TH = Math.ceil(Hd / 2);
  const TW = Math.ceil(Wd / 2);
  const tiles = g.N * TH * TW;
  rt.run(convWinogradKernel, {
    layout: g.dataFormat, tileChannels: tile.channels, workgroup: tile.workgroup, unroll: tile.unroll,
    dstVec4: !nchw && Cd % 4 === 0, bias: bias !== null,
  }, bias ? [src, wino, bias, dst] : [src, wino, dst], {
    Hs, Ws, Cs, Hd, Wd, Cd, padTop: fwd ? g.padTop : 2 - g.padTop, padLeft: fwd ? g.padLeft : 2 - g.padLeft,
    TH, TW, tiles, row4: CdPad / 4, plane4: rowVec4s,
  }, [Math.ceil(tiles / tile.workgroup), CdPad / tile.channels, 1], { mode, dataFormat: g.dataFormat, winograd: true });
  wino.dispose();
  return dst;
}

/** The trace scope of Winograd's GEMMs, so that profiles count them as convolution time. */
export const WINOGRAD_GEMM_SCOPE = 'conv2d_winograd_gemm';

/** The Winograd tiling of an N × Hd × Wd destination: tile size m, α = m + 2, tile rows, columns and count. */
function winogradTiles(tuning: ConvTuning, N: number, Hd: number, Wd: number) {
  const m = winogradTileFor(tuning.winogradGemm!, Hd, Wd);
  const [TH, TW] = [Math.ceil(Hd / m), Math.ceil(Wd / m)];
  return { m, alpha: m + 2, TH, TW, tiles: N * TH * TW };
}

/**
 * V = Bᵀ d B of every tile's α×α patch of src (an Hs × Ws image with Cs channels, the patch of tile
 * (ty, tx) starting at (ty·m − padTop, tx·m − padLeft)): [α²][tiles][S], S = Cs rounded up to 4.
 */
function transformInput(
  src: Tensor, t: ReturnType<typeof winogradTiles>, s: { Hs: number; Ws: number; Cs: number; S: number; padTop: number; padLeft: number },
  g: Conv2dGeometry, workgroup: number, trace: Record<string, unknown>,
): Tensor {
  const v = allocTensor([t.alpha * t.alpha * t.tiles * s.S]);
  src.runtime.run(winogradInputKernel, { m: t.m, layout: g.dataFormat, workgroup, srcVec4: g.dataFormat === 'NHWC' && s.Cs % 4 === 0 }, [src, v], {
    Hs: s.Hs, Ws: s.Ws, Cs: s.Cs, S4: s.S / 4, padTop: s.padTop, padLeft: s.padLeft, TH: t.TH, TW: t.TW, tiles: t.tiles,
  }, gridWorkgroups(s.S / 4, t.TH * t.TW, g.N, workgroup), trace);
  return v;
}

/**
 * Winograd F(m×m, 3×3) around a batched GEMM (kernels-wgsl conv2d/winograd-gemm.ts): transform the
 * filter to U [α²][S][D] and the source tiles to V [α²][tiles][S], multiply M[ξ] = V[ξ]·U[ξ] with
 * `gemm` (α² products in one dispatch), transform M back to destination pixels. S and D are the
 * source and destination channels rounded up to 4 (padded with zeros). Backward-data is the forward
 * convolution of dy with the filter flipped and its channels swapped, padded by 2 − pad.
 * `want.transformedX`: also return V, which the forward shares with the filter gradient
 * (winogradGemmFilterGrad); `want.transformedW`: also return U, for the adjoint backward-data;
 * `want.statisticsShift`: the output transform also sums the batch-norm statistics of dst.
 */
function winogradGemmConv(
  mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning: ConvTuning, want: ForwardWants = {},
): { dst: Tensor; v: Tensor | null; u: Tensor | null; statistics: ChannelStatistics | null } {
  const keepV = want.transformedX ?? false;
  const keepU = mode === 'forward' && (want.transformedW ?? false);
  const rt = src.runtime;
  const fwd = mode === 'forward';
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const t = winogradTiles(tuning, g.N, Hd, Wd);
  const [S, D] = [roundUp(Cs, 4), roundUp(Cd, 4)];
  const workgroup = tuning.helperWorkgroup;
  const trace = { mode, dataFormat: g.dataFormat, winograd: true };
  const u = allocTensor([t.alpha * t.alpha * S * D]);
  transformFilter(w, u, { m: t.m, fwd, Cs, Apad: S, Cd, row4: D / 4, g, workgroup });
  const pads = { padTop: fwd ? g.padTop : 2 - g.padTop, padLeft: fwd ? g.padLeft : 2 - g.padLeft };
  const v = transformInput(src, t, { Hs, Ws, Cs, S, ...pads }, g, workgroup, trace);
  const mm = allocTensor([t.alpha * t.alpha * t.tiles * D]);
  rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: v, b: u, c: mm, M: t.tiles, N: D, K: S, batch: t.alpha * t.alpha }));
  if (!keepU) u.dispose();
  if (!keepV) v.dispose();
  const dst = allocTensor(dstShape);
  const statistics = fwd ? outputStatistics(want, g, tuning, t.tiles) : null;
  rt.run(winogradOutputKernel, {
    m: t.m, layout: g.dataFormat, workgroup, bias: bias !== null, dstVec4: g.dataFormat === 'NHWC' && Cd % 4 === 0, ...(statistics ? { statistics: true } : {}),
  }, [mm, ...(bias ? [bias] : []), dst, ...(statistics ? [statistics.shift, statistics.partials] : [])],
  { Hd, Wd, Cd, D4: D / 4, TH: t.TH, TW: t.TW, tiles: t.tiles }, gridWorkgroups(D / 4, t.TH * t.TW, g.N, workgroup), trace);
  mm.dispose();
  return { dst, v: keepV ? v : null, u: keepU ? u : null, statistics };
}

/**
 * The filter gradient of a 3×3 stride-1 convolution through Winograd F(m×m, 3×3): the forward's
 * input transform of x (V [α²][tiles][S]) and the gradient of its M (Z = A dY Aᵀ, [α²][tiles][D])
 * meet in a batched GEMM over tiles, P[ξ] = Z[ξ]ᵀ·V[ξ] [D × S], and dw = Gᵀ P G per (o, c).
 * `transformedX`: V as the forward computed it (the same tiles and padding), instead of again.
 */
function winogradGemmFilterGrad(x: Tensor, dy: Tensor, g: Conv2dGeometry, tuning: ConvTuning, transformedX?: Tensor, transformedDy?: Tensor): Tensor {
  const rt = x.runtime;
  const { t, S, D, workgroup, trace } = winogradBackward(g, tuning, 'backwardFilter');
  const v = transformedX ?? transformInput(x, t, { Hs: g.H, Ws: g.W, Cs: g.C, S, padTop: g.padTop, padLeft: g.padLeft }, g, workgroup, trace);
  const z = transformedDy ?? transformDy(dy, g, tuning, trace);
  const pp = allocTensor([t.alpha * t.alpha * D * S]);
  rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: v, c: pp, M: D, N: S, K: t.tiles, transA: true, batch: t.alpha * t.alpha }));
  if (!transformedX) v.dispose();
  if (!transformedDy) z.dispose();
  const dw = allocTensor([g.O, g.C, 3, 3]);
  rt.run(winogradFilterGradKernel, { m: t.m, workgroup }, [pp, dw], { C: g.C, O: g.O, D, S4: S / 4 },
    gridWorkgroups(S / 4, g.O, 1, workgroup), trace);
  pp.dispose();
  return dw;
}

/** What both Winograd-GEMM backward passes work on: the forward's tiling, C and O rounded up to 4. */
function winogradBackward(g: Conv2dGeometry, tuning: ConvTuning, mode: 'backwardData' | 'backwardFilter') {
  return {
    t: winogradTiles(tuning, g.N, g.OH, g.OW),
    S: roundUp(g.C, 4),
    D: roundUp(g.O, 4),
    workgroup: tuning.helperWorkgroup,
    trace: { mode, dataFormat: g.dataFormat, winograd: true },
  };
}

/** Z = A dY Aᵀ of dy's m×m tiles, [α²][tiles][D] (winogradDyKernel), on the forward's tiling. */
function transformDy(dy: Tensor, g: Conv2dGeometry, tuning: ConvTuning, trace: Record<string, unknown>): Tensor {
  const { t, D, workgroup } = winogradBackward(g, tuning, 'backwardData');
  const z = allocTensor([t.alpha * t.alpha * t.tiles * D]);
  dy.runtime.run(winogradDyKernel, { m: t.m, layout: g.dataFormat, workgroup, srcVec4: g.dataFormat === 'NHWC' && g.O % 4 === 0 }, [dy, z], {
    Hd: g.OH, Wd: g.OW, Cd: g.O, D4: D / 4, TH: t.TH, TW: t.TW, tiles: t.tiles,
  }, gridWorkgroups(D / 4, t.TH * t.TW, g.N, workgroup), trace);
  return z;
}

/** Whether backward-data runs as the adjoint of the Winograd-GEMM forward (`winogradGemm.adjointData`). */
function adjointDataApplies(g: Conv2dGeometry, tuning: ConvTuning): boolean {
  return (tuning.winogradGemm?.adjointData ?? false) && isWinogradShape(g);
}

/**
 * dy's Winograd transform Z where backward-data runs as the adjoint (else null): pass it to both
 * conv2dBackwardData and conv2dBackwardFilter so that it is computed once. The caller owns it.
 */
export function conv2dTransformedDy(dy: Tensor, g: Conv2dGeometry, tuning: ConvTuning): Tensor | null {
  return adjointDataApplies(g, tuning) ? transformDy(dy, g, tuning, { mode: 'backward', dataFormat: g.dataFormat, winograd: true }) : null;
}

/**
 * Backward-data of a 3×3 stride-1 convolution as the adjoint of the Winograd-GEMM forward on its
 * tiling: dV[ξ] = Z[ξ]·U[ξ]ᵀ (the GEMM, U the forward's filter transform with out channels as rows),
 * each tile's patch gradient B dV Bᵀ in place, then every dx pixel gathers the patches covering it.
 * Its transforms run over dx's channels (C) where the flipped-filter forward transforms dy's (O: 4×
 * as many in SqueezeNet's expand layers), and Z is shared with the filter gradient.
 */
function winogradGemmAdjointData(dy: Tensor, w: Tensor, g: Conv2dGeometry, tuning: ConvTuning, transformedDy?: Tensor, transformedW?: Tensor): Tensor {
  const rt = dy.runtime;
  const { t, S, D, workgroup, trace } = winogradBackward(g, tuning, 'backwardData');
  const z = transformedDy ?? transformDy(dy, g, tuning, trace);
  const dv = allocTensor([t.alpha * t.alpha * t.tiles * S]);
  if (transformedW) {
    // The forward's U [α²][S][D], read transposed.
    rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: transformedW, c: dv, M: t.tiles, N: S, K: D, transB: true, batch: t.alpha * t.alpha }));
  } else {
    const ut = allocTensor([t.alpha * t.alpha * D * S]);
    // w[o][c][kh][kw] with rows = out channels (stride C·9) and columns = in channels (stride 9), not flipped.
    rt.run(winogradGemmFilterKernel, { m: t.m, workgroup, flip: false }, [w, ut], {
      A: g.O, Apad: D, B: g.C, row4: S / 4, strideA: g.C * 9, strideB: 9,
    }, gridWorkgroups(S / 4, D, 1, workgroup), trace);
    rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: ut, c: dv, M: t.tiles, N: S, K: D, batch: t.alpha * t.alpha }));
    ut.dispose();
  }
  if (!transformedDy) z.dispose();
  rt.run(winogradInputGradKernel, { m: t.m, workgroup }, [dv], { S4: S / 4, TH: t.TH, TW: t.TW, tiles: t.tiles },
    gridWorkgroups(S / 4, t.TH * t.TW, g.N, workgroup), trace);
  const dx = allocTensor(inputShape(g));
  rt.run(winogradGatherKernel, { m: t.m, layout: g.dataFormat, workgroup, dstVec4: g.dataFormat === 'NHWC' && g.C % 4 === 0 }, [dv, dx], {
    H: g.H, W: g.W, C: g.C, S4: S / 4, padTop: g.padTop, padLeft: g.padLeft, TH: t.TH, TW: t.TW, tiles: t.tiles,
  }, gridWorkgroups(S / 4, g.H * g.W, g.N, workgroup), trace);
  dv.dispose();
  return dx;
}

/** Sums [chunks][rows][rowVec4s·4] partials into out (see convPartialSumKernel). */
function sumPartials(partial: Tensor, out: Tensor, d: { rows: number; C: number; taps: number; O: number; rowVec4s: number; chunks: number }, tuning: ConvTuning, sameOrder = false): void {
  const groups = Math.ceil(d.O / 4);
  partial.runtime.run(convPartialSumKernel, { workgroup: tuning.helperWorkgroup, ...(sameOrder ? { sameOrder } : {}) }, [partial, out],
    { ...d, groups }, gridWorkgroups(groups, d.C, d.taps, tuning.helperWorkgroup));
}

/**
 * Where the small-patch filter gradient takes dy from: a tensor, or the backward of
 * batchNormReluMaxPool over the convolution's output y (its pooled gradient, window positions,
 * parameter table and dx coefficients), so that full-size gradient is never materialised.
 */
export type FilterPatchDy =
  | { kind: 'tensor'; dy: Tensor }
  | { kind: 'bnReluMaxPool'; y: Tensor; grad: Tensor; positions: Tensor; params: Tensor; coefs: Tensor; windowH: number; windowW: number };

/**
 * Whether the small-patch filter gradient (filter-patch.ts) runs this geometry under the tuning:
 * NHWC, O % 4 == 0, a kernel larger than 1×1 (the per-tap kernel loads dy once per tap) with
 * C·KH·KW ≤ FILTER_PATCH_MAX. On lavapipe (GPU timestamps, 2026-11-26) conv1's (2×2×3 → 96) took
 * 4.3–4.5 ms against 6.2–6.5 (minimums of 7); a 1×1 with 16 channels (fire2/expand1x1) was no
 * faster than the per-tap kernel's subgroup-shared rows (1.3–1.7 against 1.2–1.3 ms).
 */
export function filterPatchApplies(g: Conv2dGeometry, tuning: ConvTuning): boolean {
  return !!tuning.filterPatch && g.dataFormat === 'NHWC' && g.KH * g.KW > 1 && g.C * g.KH * g.KW <= FILTER_PATCH_MAX && g.O % 4 === 0;
}

/** The filter gradient [O, C, KH, KW] through the small-patch kernel (filterPatchApplies must hold). */
export function conv2dFilterPatch(x: Tensor, source: FilterPatchDy, g: Conv2dGeometry, tuning: ConvTuning): Tensor {
  const tile = tuning.filterPatch;
  if (!tile || !filterPatchApplies(g, tuning)) throw new Error('conv2d: the small-patch filter gradient does not apply to this convolution');
  const rt = x.runtime;
  const bn = source.kind === 'bnReluMaxPool';
  const [windowH, windowW] = bn ? [source.windowH, source.windowW] : [1, 1];
  const [PH, PW] = [g.OH / windowH, g.OW / windowW];
  if (!Number.isInteger(PH) || !Number.isInteger(PW)) throw new Error(`conv2d: a ${windowH}×${windowW} pool window does not tile ${g.OH}×${g.OW}`);
  const rows = g.N * PH * PW;
  const chunk = Math.max(1, Math.floor(tile.chunkPixels / (windowH * windowW)));
  const chunks = Math.ceil(rows / chunk);
  const outTiles = Math.ceil(g.O / tile.outChannels);
  const rowVec4s = outTiles * tile.outChannels / 4;
  const taps = g.KH * g.KW;
  const partial = allocTensor([chunks * taps * g.C * rowVec4s * 4]);
  const total = chunks * outTiles;
  const inputs = source.kind === 'tensor' ? [source.dy] : [source.y, source.grad, source.positions, source.params, source.coefs];
  rt.run(convFilterPatchKernel, {
    C: g.C, KH: g.KH, KW: g.KW, tileOut: tile.outChannels, workgroup: tile.workgroup, dy: source.kind, windowH, windowW,
    ...(g.strideH === 1 && g.strideW === 1 ? { unitStride: true } : {}),
  }, [x, ...inputs, partial], {
    H: g.H, W: g.W, O4: g.O / 4, OH: g.OH, OW: g.OW, strideH: g.strideH, strideW: g.strideW,
    padTop: g.padTop, padLeft: g.padLeft, rows, PH, PW, chunk, outTiles, total,
  }, linearWorkgroups(total, tile.workgroup), { dataFormat: g.dataFormat, chunks });
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  sumPartials(partial, dw, { rows: taps * g.C, C: g.C, taps, O: g.O, rowVec4s, chunks }, tuning);
  partial.dispose();
  return dw;
}

/** NCHW filter gradients of kernels larger than 1×1 go through NHWC where the tuning says so (C, O % 4 == 0). */
function filterViaNhwc(g: Conv2dGeometry, tuning: ConvTuning): boolean {
  return g.dataFormat === 'NCHW' && tuning.nchwFilterViaNHWC && !isPointwise(g) && g.C % 4 === 0 && g.O % 4 === 0;
}

/** The trace scope of the 1×1 filter gradient's GEMM (a conv2d_ scope: counted as convolution). */
export const FILTER_GEMM_SCOPE = 'conv2d_filter_gemm';

/**
 * Whether a 1×1 filter gradient runs as pixel chunks of the batched GEMM (`pointwiseFilterGemm`):
 * partials summed by conv2d_partial_sum need O % 4 == 0; a single partial, written as the gradient
 * itself, does not (conv10: 10 classes).
 */
export function pointwiseFilterGemmApplies(g: Conv2dGeometry, tuning: ConvTuning): boolean {
  return (tuning.pointwiseFilterGemm ?? false) && isPointwise(g) && (g.O % 4 === 0 || pointwiseFilterChunks(g, tuning).partials === 1);
}

/**
 * How pointwiseFilterGemm splits the pixels: NHWC into chunks of `chunkPixels` consecutive pixels
 * (the last one shorter), NCHW into images, as many summed into each partial as fit in
 * `chunkPixels` (the GEMM's sumItems).
 */
function pointwiseFilterChunks(g: Conv2dGeometry, tuning: ConvTuning): { chunk: number; full: number; rest: number; imagesPerPartial: number; partials: number } {
  const nhwc = pixelsAsRows(g);
  const pixels = g.N * g.OH * g.OW;
  const chunkPixels = tuning.backwardFilter[g.dataFormat].chunkPixels;
  const chunk = nhwc ? Math.min(chunkPixels, pixels) : g.OH * g.OW;
  const imagesPerPartial = nhwc ? 1 : largestDivisorAtMost(g.N, Math.max(1, Math.floor(chunkPixels / chunk)));
  const full = Math.floor(pixels / chunk);
  const rest = pixels - full * chunk;
  return { chunk, full, rest, imagesPerPartial, partials: full / imagesPerPartial + (rest > 0 ? 1 : 0) };
}

/**
 * The filter gradient of a 1×1 stride-1 convolution is a GEMM over pixels: dW[o][c] = Σ_p dy[p][o]
 * · x[p][c]. It runs as the batched `gemm` (its register tile, B shared across subgroups), each batch
 * item one chunk of pixels (NHWC: `chunkPixels` of them, the last chunk in a call of its own when
 * they do not divide the pixels; NCHW: one image, `pointwiseFilterChunks` images summed into each
 * partial), writing partials that conv2d_partial_sum adds into [O, C, 1, 1], or, where one partial
 * holds them all and its rows run along O, the gradient itself. The GEMM's lanes spread over its rows, so they are the longer side where that
 * pads less (`paddedArea`): partial[chunk][c][o] with M = C, N = O (NHWC x [P, C] is Aᵀ and dy
 * [P, O] is B; NCHW x[n] [C, HW] is A and dy[n] [O, HW] is Bᵀ), or [chunk][o][c] with the operands
 * swapped. SqueezeNet's squeeze layers take the first, fire2–4's expand1x1 (C = 16 or 32 rows: most
 * of a workgroup's lanes idle) the second.
 */
function pointwiseFilterGemm(x: Tensor, dy: Tensor, g: Conv2dGeometry, tuning: ConvTuning): Tensor {
  const rt = x.runtime;
  const { C, O } = g;
  const nhwc = pixelsAsRows(g);
  const { chunk, full, rest, imagesPerPartial, partials } = pointwiseFilterChunks(g, tuning);
  // On a tie the longer side takes the rows: more row tiles, more lanes per workgroup (fire9's
  // expand1x1 NHWC, 256 × 64 either way, measured 0.84 ms as 64 rows, ~0.5 as 256). O % 4 != 0
  // (one partial, see pointwiseFilterGemmApplies): rows along O, the partial being the gradient.
  const [byO, byC] = [paddedArea(rt, O, C), paddedArea(rt, C, O)];
  const outRows = O % 4 !== 0 || (C % 4 === 0 && (byO < byC || (byO === byC && O > C)));
  const [a, b, M, N] = outRows ? [dy, x, O, C] : [x, dy, C, O];
  // One partial in [O][C] order is the gradient itself.
  const direct = partials === 1 && outRows;
  const dw = allocTensor([O, C, 1, 1]);
  const partial = direct ? dw : allocTensor([partials * C * O]);
  const item = (K: number, first: number, batch: number, sumItems: number) => rt.scope(FILTER_GEMM_SCOPE, () => gemm(rt, {
    a, b, c: partial, M, N, K, batch, sumItems,
    transA: nhwc, transB: !nhwc,
    aOffset: first * M, bOffset: first * N, cOffset: (first / chunk / sumItems) * M * N,
    aBatchStride: chunk * M, bBatchStride: chunk * N, cBatchStride: M * N,
  }));
  item(chunk, 0, full, imagesPerPartial);
  if (rest > 0) item(rest, full * chunk, 1, 1);
  if (!direct) {
    sumPartials(partial, dw, { rows: M, C: M, taps: 1, O: N, rowVec4s: N / 4, chunks: partials }, tuning, outRows);
    partial.dispose();
  }
  return dw;
}

/** NHWC, or NCHW images of one pixel (conv10's), which are laid out alike: [pixels, channels]. */
const pixelsAsRows = (g: Conv2dGeometry): boolean => g.dataFormat === 'NHWC' || g.OH * g.OW === 1;

/** The largest divisor of n that is at most `limit` (1 at least). */
function largestDivisorAtMost(n: number, limit: number): number {
  for (let d = Math.min(n, limit); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** Elements an M × N GEMM computes with its default tile, edges padded. */
function paddedArea(rt: Tensor['runtime'], M: number, N: number): number {
  const t = defaultGemmTile(rt, M, N);
  const [rowStep, colStep] = t.lanes === 'm' ? [t.rows * t.wg, t.cols] : [t.rows, t.cols * t.wg];
  return roundUp(M, rowStep) * roundUp(N, colStep);
}

/**
 * Which algorithm the fast path runs for a pass of this geometry under a tuning, e.g. for benchmark
 * tables: 'winograd-gemm F(4×4,3×3)' (' adjoint' for backward-data as the forward's adjoint),
 * 'winograd F(2×2,3×3)' (the fused kernel), 'implicit GEMM', 'GEMM + col2im' (backward-data of
 * narrow inputs) or, for the filter gradient, 'filter patch', 'filter GEMM', 'filter partials'
 * (NCHW through NHWC: 'filter partials via NHWC').
 */
export function conv2dAlgorithm(g: Conv2dGeometry, pass: 'forward' | 'backwardData' | 'backwardFilter', tuning: ConvTuning): string {
  const adjoint = pass === 'backwardData' && adjointDataApplies(g, tuning);
  // The adjoint backward-data tiles dy as the forward does; the flipped-filter one tiles dx.
  const [Hd, Wd] = pass === 'backwardData' && !adjoint ? [g.H, g.W] : [g.OH, g.OW];
  if (tuning.winogradGemm && isWinogradShape(g)) {
    const m = winogradTileFor(tuning.winogradGemm, Hd, Wd);
    return `winograd-gemm F(${m}×${m},3×3)${adjoint ? ' adjoint' : ''}`;
  }
  if (pass === 'backwardFilter') {
    if (filterPatchApplies(g, tuning)) return 'filter patch';
    if (pointwiseFilterGemmApplies(g, tuning)) return 'filter GEMM';
    return filterViaNhwc(g, tuning) ? 'filter partials via NHWC' : 'filter partials';
  }
  if (pass === 'backwardData' && colsDataApplies(g, tuning)) return 'GEMM + col2im';
  return tuning.winograd && isWinogradShape(g) ? 'winograd F(2×2,3×3)' : 'implicit GEMM';
}

export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning = convTuningFor(x.runtime.description)): Tensor {
  return gemmConv('forward', x, w, bias, g, tuning).dst;
}

/**
 * Batch-norm statistics of a convolution's output, summed by the kernel that wrote it: partials
 * [2, parts, C] of Σ(y − shift) and Σ(y − shift)² per channel, `shift` being the batch norm's
 * running mean (what bn_channel_params adds back). batchNorm and its fused variants take them as
 * their `statistics` option and skip their own pass over y.
 */
export interface ChannelStatistics { partials: Tensor; parts: number; shift: Tensor }

/** What a forward can hand on besides y (conv2dForwardWith). */
export interface ForwardWants {
  /** Winograd-GEMM's transformed input V, for conv2dBackwardFilter's `transformedX`. */
  transformedX?: boolean;
  /** Winograd-GEMM's transformed filter U, for the adjoint conv2dBackwardData's `transformedW`. */
  transformedW?: boolean;
  /** The batch-norm statistics of y, shifted by this [O] tensor (where statisticsApply holds). */
  statisticsShift?: Tensor | null;
}

/**
 * Where the forward's kernel can also sum its output's batch-norm statistics: the tuning says so
 * (`epilogueStatistics`), NHWC with O % 4 == 0 (vec4 stores), through the implicit GEMM or
 * Winograd-GEMM (not the fused Winograd kernel).
 */
export function statisticsApply(g: Conv2dGeometry, tuning: ConvTuning): boolean {
  const fusedWinograd = !tuning.winogradGemm && !!tuning.winograd && isWinogradShape(g);
  return !!tuning.epilogueStatistics && g.dataFormat === 'NHWC' && g.O % 4 === 0 && !fusedWinograd;
}

/** The partials a forward's epilogue sums into (one per tile of `parts`), where asked for and statisticsApply. */
function outputStatistics(want: ForwardWants, g: Conv2dGeometry, tuning: ConvTuning, parts: number): ChannelStatistics | null {
  if (!want.statisticsShift || !statisticsApply(g, tuning)) return null;
  return { partials: allocTensor([2, parts, g.O]), parts, shift: want.statisticsShift };
}

/**
 * The forward, and what `want` asks for where the path allows (else null): Winograd-GEMM's
 * transformed input V, which conv2dBackwardFilter takes instead of transforming x a second time
 * (α²·tiles·C floats, e.g. 2.4 MB for SqueezeNet's fire4 at batch 32, held from the forward to the
 * backward), its transformed filter U (α²·C·O floats, for the adjoint backward-data), and the
 * batch-norm statistics of y. The caller owns what it gets.
 */
export function conv2dForwardWith(
  x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning: ConvTuning, want: ForwardWants,
): { y: Tensor; transformedX: Tensor | null; transformedW: Tensor | null; statistics: ChannelStatistics | null } {
  const { dst, v, u, statistics } = gemmConv('forward', x, w, bias, g, tuning, want);
  return { y: dst, transformedX: v, transformedW: u, statistics };
}

/**
 * dx. Where backward-data runs as the Winograd adjoint: `transformedDy`, conv2dTransformedDy's Z;
 * `transformedW`, the forward's U (conv2dForwardWith's transformedW), instead of transforming w again.
 */
export function conv2dBackwardData(
  dy: Tensor, w: Tensor, g: Conv2dGeometry, tuning = convTuningFor(dy.runtime.description), transformedDy?: Tensor, transformedW?: Tensor,
): Tensor {
  if (adjointDataApplies(g, tuning)) return winogradGemmAdjointData(dy, w, g, tuning, transformedDy, transformedW);
  if (transformedDy || transformedW) throw new Error('conv2d: a transformed dy or w is only used by the Winograd-GEMM adjoint');
  if (colsDataApplies(g, tuning)) return colsBackwardData(dy, w, g, tuning);
  return gemmConv('backwardData', dy, w, null, g, tuning).dst;
}

const colsDataApplies = (g: Conv2dGeometry, tuning: ConvTuning): boolean =>
  g.C < (tuning.colsDataBelowChannels ?? 0) && g.KH * g.KW > 1;

/**
 * Backward-data as dcols [pixels of dy, C·KH·KW] = dy · w (w [O, C·KH·KW] is that matrix as it is:
 * NHWC one GEMM over all pixels, NCHW one per image with dy's [O, OH·OW] transposed), then the
 * col2im gather sums each dx pixel's taps.
 */
function colsBackwardData(dy: Tensor, w: Tensor, g: Conv2dGeometry, tuning: ConvTuning): Tensor {
  const rt = dy.runtime;
  const patch = g.C * g.KH * g.KW;
  const outPixels = g.OH * g.OW;
  const dcols = allocTensor([g.N * outPixels * patch]);
  if (g.dataFormat === 'NHWC') {
    gemm(rt, { a: dy, b: w, c: dcols, M: g.N * outPixels, N: patch, K: g.O });
  } else {
    gemm(rt, { a: dy, b: w, c: dcols, M: outPixels, N: patch, K: g.O, transA: true, batch: g.N, bBatchStride: 0 });
  }
  const dx = allocTensor(inputShape(g));
  rt.run(convCol2imKernel, { layout: g.dataFormat, C: g.C, workgroup: tuning.helperWorkgroup }, [dcols, dx], {
    H: g.H, W: g.W, OH: g.OH, OW: g.OW, KH: g.KH, KW: g.KW,
    strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft,
  }, gridWorkgroups(g.W, g.H, g.N, tuning.helperWorkgroup));
  dcols.dispose();
  return dx;
}

/**
 * The filter gradient [O, C, KH, KW]. `transformedX`: for Winograd-GEMM shapes, the forward's
 * transformed input (conv2dForwardWith), used instead of transforming x again.
 */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, g: Conv2dGeometry, tuning = convTuningFor(x.runtime.description), transformedX?: Tensor, transformedDy?: Tensor): Tensor {
  if (tuning.winogradGemm && isWinogradShape(g)) return winogradGemmFilterGrad(x, dy, g, tuning, transformedX, transformedDy);
  if (transformedDy) throw new Error('conv2d: a transformed dy is only used by Winograd-GEMM passes');
  if (transformedX) throw new Error('conv2d: a transformed input is only used by Winograd-GEMM filter gradients');
  if (filterPatchApplies(g, tuning)) return conv2dFilterPatch(x, { kind: 'tensor', dy }, g, tuning);
  if (pointwiseFilterGemmApplies(g, tuning)) return pointwiseFilterGemm(x, dy, g, tuning);
  if (filterViaNhwc(g, tuning)) {
    return noGrad(() => {
      const toNhwc = [0, 2, 3, 1];
      const [xT, dyT] = [permute(x, toNhwc), permute(dy, toNhwc)];
      const dw = conv2dBackwardFilter(xT, dyT, { ...g, dataFormat: 'NHWC' }, tuning);
      xT.dispose();
      dyT.dispose();
      return dw;
    });
  }
  const rt = x.runtime;
  const tuned = tuning.backwardFilter[g.dataFormat];
  // A narrow input (conv1's 3 channels) would leave most of a wide tile idle: the tile takes just
  // its channels (NHWC a multiple of 4, for vec4 loads), and in NCHW, where that is at most half
  // the tuned tile, twice the output channels, so a lane still does as many multiply-adds per load. conv1 in
  // NCHW (GPU timestamps, candidates taking turns, medians of 7, 2026-11-26): 8 × 8 9.30 ms, 4 × 8
  // 9.16, 3 × 8 7.68, 3 × 16 6.94, 3 × 24 7.22, 3 × 32 10.8.
  const narrowNchw = g.dataFormat === 'NCHW' && 2 * g.C <= tuned.inChannels;
  const inChannels = Math.min(tuned.inChannels, g.dataFormat === 'NCHW' ? g.C : roundUp(g.C, 4));
  const tile = { ...tuned, inChannels, outChannels: narrowNchw ? 2 * tuned.outChannels : tuned.outChannels };
  if (tile.chunkPixels % 4 !== 0) throw new Error(`conv2d: chunkPixels ${tile.chunkPixels} must be a multiple of 4 (vec4 steps over pixels)`);
  const nchw = g.dataFormat === 'NCHW';
  const pointwise = isPointwise(g);
  const taps = g.KH * g.KW;
  const pixels = g.N * g.OH * g.OW;
  const chunks = Math.ceil(pixels / tile.chunkPixels);
  const inTiles = Math.ceil(g.C / tile.inChannels);
  const outTiles = Math.ceil(g.O / tile.outChannels);
  const rowVec4s = outTiles * tile.outChannels / 4;
  const partial = allocTensor([chunks * taps * g.C * rowVec4s * 4]);
  const total = outTiles * inTiles * taps * chunks;
  const xVec4 = !nchw && g.C % 4 === 0 && tile.inChannels % 4 === 0;
  const subgroupX = xVec4 ? sharingSubgroup(rt, tile.subgroupX, outTiles, tile.inChannels, tile.workgroup) : 0;
  rt.run(convFilterPartialKernel, {
    layout: g.dataFormat, tileIn: tile.inChannels, tileOut: tile.outChannels, workgroup: tile.workgroup, pointwise,
    fourPixels: nchw && (g.OH * g.OW) % 4 === 0 && (pointwise || g.OW % 4 === 0),
    xVec4,
    dyVec4: !nchw && g.O % 4 === 0,
    subgroupX,
  }, [x, dy, partial], {
    C: g.C, H: g.H, W: g.W, O: g.O, KW: g.KW, OH: g.OH, OW: g.OW, strideH: g.strideH, strideW: g.strideW,
    padTop: g.padTop, padLeft: g.padLeft, pixels, chunk: tile.chunkPixels, taps, inTiles, outTiles, total,
  }, linearWorkgroups(total, tile.workgroup), { dataFormat: g.dataFormat, pointwise, chunks });
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  sumPartials(partial, dw, { rows: taps * g.C, C: g.C, taps, O: g.O, rowVec4s, chunks }, tuning);
  partial.dispose();
  return dw;
}

export function conv2dBiasGrad(dy: Tensor, g: Conv2dGeometry, tuning = convTuningFor(dy.runtime.description)): Tensor {
  const rt = dy.runtime;
  const chunk = tuning.backwardFilter[g.dataFormat].chunkPixels;
  const pixels = g.N * g.OH * g.OW;
  const chunks = Math.ceil(pixels / chunk);
  const groups = Math.ceil(g.O / 4);
  const partial = allocTensor([chunks * groups * 4]);
  const total = chunks * groups;
  const vec4 = g.dataFormat === 'NCHW' ? (g.OH * g.OW) % 4 === 0 : g.O % 4 === 0;
  rt.run(convBiasPartialKernel, { layout: g.dataFormat, vec4, workgroup: tuning.helperWorkgroup }, [dy, partial],
    { O: g.O, OHW: g.OH * g.OW, pixels, chunk, groups, total }, linearWorkgroups(total, tuning.helperWorkgroup));
  const db = allocTensor([g.O]);
  sumPartials(partial, db, { rows: 1, C: 1, taps: 1, O: g.O, rowVec4s: groups, chunks }, tuning);
  partial.dispose();
  return db;
}

// ── the op ────────────────────────────────────────────────────────────────────────────────────

/**
 * 2-D convolution (cross-correlation, as PyTorch and TensorFlow). x is [N, C, H, W] (NCHW, default)
 * or [N, H, W, C] (NHWC); w is always [out, in, kh, kw]; dilation 1.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  return conv2dOp(x, w, opts, null).y;
}

/**
 * conv2d, and the batch-norm statistics of its output where the forward's kernel can sum them
 * (statisticsApply; else null): shifted by `shift`, which must be the running mean of the batch
 * norm they are for. Pass them as that batch norm's `statistics` (training) so it skips its own
 * pass over y; the caller owns them (tidy frees them too).
 */
export function conv2dWithStatistics(x: Tensor, w: Tensor, opts: Conv2dOptions, shift: Tensor): { y: Tensor; statistics: ChannelStatistics | null } {
  return conv2dOp(x, w, opts, shift);
}

function conv2dOp(x: Tensor, w: Tensor, opts: Conv2dOptions, shift: Tensor | null): { y: Tensor; statistics: ChannelStatistics | null } {
  const g = conv2dGeometry(x.shape, w.shape, opts);
  const bias = opts.bias ?? null;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== g.O)) throw new Error(`conv2d: bias must be [${g.O}], got [${bias.shape}]`);
  if (shift && (shift.rank !== 1 || shift.shape[0] !== g.O)) throw new Error(`conv2d: the statistics shift must be [${g.O}], got [${shift.shape}]`);
  const tuning = opts.tuning ?? convTuningFor(x.runtime.description);
  // Winograd-GEMM's transformed input serves the filter gradient too, and its transformed filter
  // the adjoint backward-data, when there will be those.
  const { y, transformedX, transformedW, statistics } = conv2dForwardWith(x, w, bias, g, tuning, {
    transformedX: isGradEnabled() && w.requiresGrad,
    transformedW: isGradEnabled() && x.requiresGrad && adjointDataApplies(g, tuning),
    statisticsShift: shift,
  });
  const saved = [x, w, ...(transformedX ? [transformedX] : []), ...(transformedW ? [transformedW] : [])];
  record(y, 'conv2d', bias ? [x, w, bias] : [x, w], saved, (dy, [xs, ws, ...kept], needs) => {
    const [vs, us] = [transformedX ? kept[0] : undefined, transformedW ? kept.at(-1) : undefined];
    // dy's Winograd transform, where both passes take it, is computed once.
    const z = needs[0] && needs[1] ? conv2dTransformedDy(dy, g, tuning) : null;
    const grads = [
      // The first layer's input needs no gradient: its backward-data GEMM is skipped.
      needs[0] ? conv2dBackwardData(dy, ws!, g, tuning, z ?? undefined, us) : null,
      needs[1] ? conv2dBackwardFilter(xs!, dy, g, tuning, vs, z ?? undefined) : null,
      needs[2] ? conv2dBiasGrad(dy, g, tuning) : null,
    ];
    z?.dispose();
    return grads;
  });
  transformedX?.dispose();
  transformedW?.dispose();
  return { y, statistics };
}

import {
  convWinogradKernel, winogradGemmFilterKernel, winogradInputKernel, winogradOutputKernel, winogradDyKernel, winogradFilterGradKernel,
  winogradInputGradKernel, winogradGatherKernel, gridWorkgroups, type ConvTiles, type WinogradOutputTile,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { roundUp } from '../shape.js';
import { gemm } from '../matmul/gemm.js';
import { conv2dInputShape, convSides, type Conv2dGeometry } from './geometry.js';
import { outputStatistics, traceArgs, type PassResult } from './common.js';

/** The trace scope of Winograd's GEMMs, so that profiles count them as convolution time. */
const WINOGRAD_GEMM_SCOPE = 'conv2d_winograd_gemm';

/**
 * U = G g Gᵀ of the 3×3 filter w into `out` ([α²][Apad][row4·4], winogradGemmFilterKernel): rows are
 * source channels, columns destination channels; backward-data flips the taps and swaps the channels.
 */
function transformFilter(w: Tensor, out: Tensor, d: { m: 2 | 4; fwd: boolean; Cs: number; Apad: number; Cd: number; row4: number; g: Conv2dGeometry; workgroup: number }): void {
  // w[o][c][kh][kw]: the in-channel stride is 9, the out-channel stride C·9.
  w.runtime.run(winogradGemmFilterKernel, { m: d.m, workgroup: d.workgroup, flip: !d.fwd }, [w, out], {
    A: d.Cs, Apad: d.Apad, B: d.Cd, row4: d.row4, strideA: d.fwd ? 9 : d.g.C * 9, strideB: d.fwd ? d.g.C * 9 : 9,
  }, gridWorkgroups(d.row4, d.Apad, 1, d.workgroup), traceArgs({ winograd: true }));
}

/**
 * Winograd F(2×2, 3×3) in one fused kernel (kernels-wgsl conv2d/winograd.ts): the filter transformed
 * once per call, then one invocation per 2×2 destination tile. Backward-data is the forward
 * convolution of dy with the filter flipped and its channels swapped, padded by 2 − pad (a 3×3
 * kernel's "full" padding).
 */
export function winogradFused(mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const rt = src.runtime;
  const tile = tiles.winograd;
  if (!tile) throw new Error('conv2d: the plan chose the fused Winograd kernel but the tiles have no winograd entry');
  const fwd = mode === 'forward';
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const CdPad = roundUp(Cd, tile.channels);
  const rowVec4s = Cs * CdPad / 4;
  const wino = allocTensor([16 * Cs * CdPad]);
  transformFilter(w, wino, { m: 2, fwd, Cs, Apad: Cs, Cd, row4: CdPad / 4, g, workgroup: tiles.helperWorkgroup });
  const nchw = g.dataFormat === 'NCHW';
  const dst = allocTensor(dstShape);
  const TH = Math.ceil(Hd / 2);
  const TW = Math.ceil(Wd / 2);
  const count = g.N * TH * TW;
  rt.run(convWinogradKernel, {
    layout: g.dataFormat, tileChannels: tile.channels, workgroup: tile.workgroup, unroll: tile.unroll,
    dstVec4: !nchw && Cd % 4 === 0, bias: bias !== null,
  }, bias ? [src, wino, bias, dst] : [src, wino, dst], {
    Hs, Ws, Cs, Hd, Wd, Cd, padTop: fwd ? g.padTop : 2 - g.padTop, padLeft: fwd ? g.padLeft : 2 - g.padLeft,
    TH, TW, tiles: count, row4: CdPad / 4, plane4: rowVec4s,
  }, [Math.ceil(count / tile.workgroup), CdPad / tile.channels, 1], traceArgs({ mode, dataFormat: g.dataFormat, winograd: true }));
  wino.dispose();
  return dst;
}

/** The tiling of an N × Hd × Wd destination in m×m tiles: α = m + 2, tile rows, columns and count. */
function winogradTiles(m: WinogradOutputTile, N: number, Hd: number, Wd: number) {
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
 * `keep.v`: also return V, which the forward shares with the filter gradient; `keep.u`: also return
 * U (forward only), for the adjoint backward-data; `keep.statisticsShift`: the output transform
 * also sums the batch-norm statistics of dst.
 */
export function winogradGemmConv(
  mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile,
  keep: { v?: boolean; u?: boolean; statisticsShift?: Tensor | null } = {},
): PassResult {
  const fwd = mode === 'forward';
  const keepV = keep.v ?? false;
  const keepU = fwd && (keep.u ?? false);
  const rt = src.runtime;
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const t = winogradTiles(m, g.N, Hd, Wd);
  const [S, D] = [roundUp(Cs, 4), roundUp(Cd, 4)];
  const workgroup = tiles.helperWorkgroup;
  const trace = traceArgs({ mode, dataFormat: g.dataFormat, winograd: true });
  const u = allocTensor([t.alpha * t.alpha * S * D]);
  transformFilter(w, u, { m, fwd, Cs, Apad: S, Cd, row4: D / 4, g, workgroup });
  const pads = { padTop: fwd ? g.padTop : 2 - g.padTop, padLeft: fwd ? g.padLeft : 2 - g.padLeft };
  const v = transformInput(src, t, { Hs, Ws, Cs, S, ...pads }, g, workgroup, trace);
  const mm = allocTensor([t.alpha * t.alpha * t.tiles * D]);
  rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: v, b: u, c: mm, M: t.tiles, N: D, K: S, batch: t.alpha * t.alpha }));
  if (!keepU) u.dispose();
  if (!keepV) v.dispose();
  const dst = allocTensor(dstShape);
  const statistics = fwd ? outputStatistics(keep.statisticsShift, g, t.tiles) : null;
  rt.run(winogradOutputKernel, {
    m, layout: g.dataFormat, workgroup, bias: bias !== null, dstVec4: g.dataFormat === 'NHWC' && Cd % 4 === 0, ...(statistics ? { statistics: true } : {}),
  }, [mm, ...(bias ? [bias] : []), dst, ...(statistics ? [statistics.shift, statistics.partials] : [])],
  { Hd, Wd, Cd, D4: D / 4, TH: t.TH, TW: t.TW, tiles: t.tiles }, gridWorkgroups(D / 4, t.TH * t.TW, g.N, workgroup), trace);
  mm.dispose();
  return { dst, v: keepV ? v : null, u: keepU ? u : null, statistics };
}

/** What both Winograd-GEMM backward passes work on: the forward's tiling, C and O rounded up to 4. */
function winogradBackward(g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile, mode: string) {
  return {
    t: winogradTiles(m, g.N, g.OH, g.OW),
    S: roundUp(g.C, 4),
    D: roundUp(g.O, 4),
    workgroup: tiles.helperWorkgroup,
    trace: traceArgs({ mode, dataFormat: g.dataFormat, winograd: true }),
  };
}

/**
 * Z = A dY Aᵀ of dy's m×m tiles, [α²][tiles][D] (winogradDyKernel), on the forward's tiling: the
 * input of both the filter gradient and the adjoint backward-data. The caller owns it.
 */
export function winogradTransformDy(dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile, mode = 'backward'): Tensor {
  const { t, D, workgroup, trace } = winogradBackward(g, tiles, m, mode);
  const z = allocTensor([t.alpha * t.alpha * t.tiles * D]);
  dy.runtime.run(winogradDyKernel, { m, layout: g.dataFormat, workgroup, srcVec4: g.dataFormat === 'NHWC' && g.O % 4 === 0 }, [dy, z], {
    Hd: g.OH, Wd: g.OW, Cd: g.O, D4: D / 4, TH: t.TH, TW: t.TW, tiles: t.tiles,
  }, gridWorkgroups(D / 4, t.TH * t.TW, g.N, workgroup), trace);
  return z;
}

/** P[ξ] = Z[ξ]ᵀ·V[ξ] [D × S], the filter gradient's GEMM over tiles. */
function filterProducts(rt: Tensor['runtime'], z: Tensor, v: Tensor, b: ReturnType<typeof winogradBackward>): Tensor {
  const pp = allocTensor([b.t.alpha * b.t.alpha * b.D * b.S]);
  rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: v, c: pp, M: b.D, N: b.S, K: b.t.tiles, transA: true, batch: b.t.alpha * b.t.alpha }));
  return pp;
}

/** dw = Gᵀ P G per (o, c); frees P. */
function filterFromProducts(pp: Tensor, g: Conv2dGeometry, m: WinogradOutputTile, b: ReturnType<typeof winogradBackward>): Tensor {
  const dw = allocTensor([g.O, g.C, 3, 3]);
  pp.runtime.run(winogradFilterGradKernel, { m, workgroup: b.workgroup }, [pp, dw], { C: g.C, O: g.O, D: b.D, S4: b.S / 4 },
    gridWorkgroups(b.S / 4, g.O, 1, b.workgroup), b.trace);
  pp.dispose();
  return dw;
}

/**
 * The filter gradient of a 3×3 stride-1 convolution through Winograd F(m×m, 3×3): the forward's
 * input transform of x (V [α²][tiles][S]) and the gradient of its M (Z = A dY Aᵀ, [α²][tiles][D])
 * meet in a batched GEMM over tiles, P[ξ] = Z[ξ]ᵀ·V[ξ] [D × S], and dw = Gᵀ P G per (o, c).
 * `transformedX`: V as the forward computed it (the same tiles and padding), instead of again.
 */
export function winogradGemmFilterGrad(
  x: Tensor, dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile, transformedX?: Tensor, transformedDy?: Tensor,
): Tensor {
  const b = winogradBackward(g, tiles, m, 'backwardFilter');
  const v = transformedX ?? transformInput(x, b.t, { Hs: g.H, Ws: g.W, Cs: g.C, S: b.S, padTop: g.padTop, padLeft: g.padLeft }, g, b.workgroup, b.trace);
  const z = transformedDy ?? winogradTransformDy(dy, g, tiles, m, 'backwardFilter');
  const pp = filterProducts(x.runtime, z, v, b);
  if (!transformedX) v.dispose();
  if (!transformedDy) z.dispose();
  return filterFromProducts(pp, g, m, b);
}

/** dV[ξ] = Z[ξ]·U[ξ]ᵀ, the adjoint's GEMM (U the forward's filter transform where given, else made here from w). */
function adjointProducts(z: Tensor, w: Tensor, g: Conv2dGeometry, m: WinogradOutputTile, b: ReturnType<typeof winogradBackward>, transformedW?: Tensor): Tensor {
  const rt = z.runtime;
  const { t, S, D, workgroup, trace } = b;
  const dv = allocTensor([t.alpha * t.alpha * t.tiles * S]);
  if (transformedW) {
    // The forward's U [α²][S][D], read transposed.
    rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: transformedW, c: dv, M: t.tiles, N: S, K: D, transB: true, batch: t.alpha * t.alpha }));
  } else {
    const ut = allocTensor([t.alpha * t.alpha * D * S]);
    // w[o][c][kh][kw] with rows = out channels (stride C·9) and columns = in channels (stride 9), not flipped.
    rt.run(winogradGemmFilterKernel, { m, workgroup, flip: false }, [w, ut], {
      A: g.O, Apad: D, B: g.C, row4: S / 4, strideA: g.C * 9, strideB: 9,
    }, gridWorkgroups(S / 4, D, 1, workgroup), trace);
    rt.scope(WINOGRAD_GEMM_SCOPE, () => gemm(rt, { a: z, b: ut, c: dv, M: t.tiles, N: S, K: D, batch: t.alpha * t.alpha }));
    ut.dispose();
  }
  return dv;
}

/** Each tile's patch gradient B dV Bᵀ, in place. */
function adjointPatches(dv: Tensor, g: Conv2dGeometry, m: WinogradOutputTile, b: ReturnType<typeof winogradBackward>): void {
  dv.runtime.run(winogradInputGradKernel, { m, workgroup: b.workgroup }, [dv], { S4: b.S / 4, TH: b.t.TH, TW: b.t.TW, tiles: b.t.tiles },
    gridWorkgroups(b.S / 4, b.t.TH * b.t.TW, g.N, b.workgroup), b.trace);
}

/** Every dx pixel gathers the patches covering it; frees dV. */
function adjointGather(dv: Tensor, g: Conv2dGeometry, m: WinogradOutputTile, b: ReturnType<typeof winogradBackward>): Tensor {
  const { t, S, workgroup, trace } = b;
  const dx = allocTensor(conv2dInputShape(g));
  dv.runtime.run(winogradGatherKernel, { m, layout: g.dataFormat, workgroup, dstVec4: g.dataFormat === 'NHWC' && g.C % 4 === 0 }, [dv, dx], {
    H: g.H, W: g.W, C: g.C, S4: S / 4, padTop: g.padTop, padLeft: g.padLeft, TH: t.TH, TW: t.TW, tiles: t.tiles,
  }, gridWorkgroups(S / 4, g.H * g.W, g.N, workgroup), trace);
  dv.dispose();
  return dx;
}

/**
 * Backward-data of a 3×3 stride-1 convolution as the adjoint of the Winograd-GEMM forward on its
 * tiling: dV[ξ] = Z[ξ]·U[ξ]ᵀ (the GEMM, U the forward's filter transform with out channels as rows),
 * each tile's patch gradient B dV Bᵀ in place, then every dx pixel gathers the patches covering it.
 * Its transforms run over dx's channels (C) where the flipped-filter forward transforms dy's (O: 4×
 * as many in SqueezeNet's expand layers), and Z is shared with the filter gradient.
 */
export function winogradGemmAdjointData(
  dy: Tensor, w: Tensor, g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile, transformedDy?: Tensor, transformedW?: Tensor,
): Tensor {
  const b = winogradBackward(g, tiles, m, 'backwardData');
  const z = transformedDy ?? winogradTransformDy(dy, g, tiles, m, 'backwardData');
  const dv = adjointProducts(z, w, g, m, b, transformedW);
  if (!transformedDy) z.dispose();
  adjointPatches(dv, g, m, b);
  return adjointGather(dv, g, m, b);
}

/**
 * Both gradients of a Winograd-GEMM layer from the shared Z, the steps of the two passes interleaved
 * so that independent kernels sit next to each other (the runtime's horizontal fusion makes each
 * pair one dispatch): the two GEMMs, the two output transforms, then the gather.
 */
export function winogradGemmBackward(
  z: Tensor, w: Tensor, v: Tensor, g: Conv2dGeometry, tiles: ConvTiles, m: WinogradOutputTile, transformedW?: Tensor,
): [Tensor, Tensor] {
  const bd = winogradBackward(g, tiles, m, 'backwardData');
  const bf = winogradBackward(g, tiles, m, 'backwardFilter');
  const dv = adjointProducts(z, w, g, m, bd, transformedW);
  const pp = filterProducts(z.runtime, z, v, bf);
  adjointPatches(dv, g, m, bd);
  const dw = filterFromProducts(pp, g, m, bf);
  return [adjointGather(dv, g, m, bd), dw];
}

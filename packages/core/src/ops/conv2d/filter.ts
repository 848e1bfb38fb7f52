import {
  convFilterPartialKernel, convBiasPartialKernel, convFilterPatchKernel, linearWorkgroups, type ConvTiles,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { roundUp } from '../shape.js';
import { defaultGemmTile, gemm } from '../matmul/gemm.js';
import { isPointwise, pixelsAsRows, type Conv2dGeometry } from './geometry.js';
import { sharingSubgroup, sumPartials, traceArgs } from './common.js';

/** The trace scope of the 1×1 filter gradient's GEMM (a conv2d_ scope: counted as convolution). */
const FILTER_GEMM_SCOPE = 'conv2d_filter_gemm';

/**
 * The per-tap filter gradient [O, C, KH, KW]: each invocation sums a tile of (in channel, out
 * channel) products over a chunk of pixels for one tap, into partials that a second kernel adds.
 */
export function filterPartials(x: Tensor, dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const rt = x.runtime;
  const tuned = tiles.backwardFilter[g.dataFormat];
  // A narrow input (conv1's 3 channels) would leave most of a wide tile idle: the tile takes just
  // its channels (NHWC a multiple of 4, for vec4 loads), and in NCHW, where that is at most half
  // the tuned tile, twice the output channels, so a lane still does as many multiply-adds per load.
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
  }, linearWorkgroups(total, tile.workgroup), traceArgs({ dataFormat: g.dataFormat, pointwise, chunks }));
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  sumPartials(partial, dw, { rows: taps * g.C, C: g.C, taps, O: g.O, rowVec4s, chunks }, tiles);
  partial.dispose();
  return dw;
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
 * The filter gradient [O, C, KH, KW] through the small-patch kernel (filter-patch.ts: all of a
 * pixel's C·KH·KW patch per invocation), for a geometry the planner gave the 'filterPatch' path.
 */
export function conv2dFilterPatch(x: Tensor, source: FilterPatchDy, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const tile = tiles.filterPatch;
  if (!tile) throw new Error('conv2d: the plan chose the small-patch filter gradient but the tiles have no filterPatch entry');
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
  }, linearWorkgroups(total, tile.workgroup), traceArgs({ dataFormat: g.dataFormat, chunks }));
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  sumPartials(partial, dw, { rows: taps * g.C, C: g.C, taps, O: g.O, rowVec4s, chunks }, tiles);
  partial.dispose();
  return dw;
}

/**
 * How the 1×1 filter GEMM splits the pixels: NHWC into chunks of `chunkPixels` consecutive pixels
 * (the last one shorter), NCHW into images, as many summed into each partial as fit in
 * `chunkPixels` (the GEMM's sumItems).
 */
export function pointwiseFilterChunks(g: Conv2dGeometry, tiles: ConvTiles): { chunk: number; full: number; rest: number; imagesPerPartial: number; partials: number } {
  const nhwc = pixelsAsRows(g);
  const pixels = g.N * g.OH * g.OW;
  const chunkPixels = tiles.backwardFilter[g.dataFormat].chunkPixels;
  const chunk = nhwc ? Math.min(chunkPixels, pixels) : g.OH * g.OW;
  const imagesPerPartial = nhwc ? 1 : largestDivisorAtMost(g.N, Math.max(1, Math.floor(chunkPixels / chunk)));
  const full = Math.floor(pixels / chunk);
  const rest = pixels - full * chunk;
  return { chunk, full, rest, imagesPerPartial, partials: full / imagesPerPartial + (rest > 0 ? 1 : 0) };
}

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
 * The filter gradient of a 1×1 stride-1 convolution is a GEMM over pixels: dW[o][c] = Σ_p dy[p][o]
 * · x[p][c]. It runs as the batched `gemm` (its register tile, B shared across subgroups), each batch
 * item one chunk of pixels (`pointwiseFilterChunks`), writing partials that conv2d_partial_sum adds
 * into [O, C, 1, 1], or, where one partial holds them all and its rows run along O, the gradient
 * itself. The GEMM's lanes spread over its rows, so they are the longer side where that pads less
 * (`paddedArea`): partial[chunk][c][o] with M = C, N = O (NHWC x [P, C] is Aᵀ and dy [P, O] is B;
 * NCHW x[n] [C, HW] is A and dy[n] [O, HW] is Bᵀ), or [chunk][o][c] with the operands swapped.
 */
export function pointwiseFilterGemm(x: Tensor, dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const rt = x.runtime;
  const { C, O } = g;
  const nhwc = pixelsAsRows(g);
  const { chunk, full, rest, imagesPerPartial, partials } = pointwiseFilterChunks(g, tiles);
  // On a tie the longer side takes the rows: more row tiles, more lanes per workgroup. O % 4 != 0
  // (one partial, as the planner requires then): rows along O, the partial being the gradient.
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
    sumPartials(partial, dw, { rows: M, C: M, taps: 1, O: N, rowVec4s: N / 4, chunks: partials }, tiles, outRows);
    partial.dispose();
  }
  return dw;
}

/** The bias gradient [O]: per-chunk partial sums of dy over pixels, then their sum. */
export function biasGrad(dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const rt = dy.runtime;
  const chunk = tiles.backwardFilter[g.dataFormat].chunkPixels;
  const pixels = g.N * g.OH * g.OW;
  const chunks = Math.ceil(pixels / chunk);
  const groups = Math.ceil(g.O / 4);
  const partial = allocTensor([chunks * groups * 4]);
  const total = chunks * groups;
  const vec4 = g.dataFormat === 'NCHW' ? (g.OH * g.OW) % 4 === 0 : g.O % 4 === 0;
  rt.run(convBiasPartialKernel, { layout: g.dataFormat, vec4, workgroup: tiles.helperWorkgroup }, [dy, partial],
    { O: g.O, OHW: g.OH * g.OW, pixels, chunk, groups, total }, linearWorkgroups(total, tiles.helperWorkgroup));
  const db = allocTensor([g.O]);
  sumPartials(partial, db, { rows: 1, C: 1, taps: 1, O: g.O, rowVec4s: groups, chunks }, tiles);
  partial.dispose();
  return db;
}

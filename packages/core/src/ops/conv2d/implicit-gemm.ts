import { convWeightMatrixKernel, convGemmKernel, convCol2imKernel, gemmTileFor, gridWorkgroups, type ConvTiles } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { roundUp } from '../shape.js';
import { gemm } from '../matmul/gemm.js';
import { conv2dInputShape, convSides, isPointwise, type Conv2dGeometry } from './geometry.js';
import { outputStatistics, sharingSubgroup, traceArgs, type PassResult } from './common.js';

/**
 * The implicit GEMM dst[p, d] = Σ src · wmat for forward (src = x, d = out channel) or
 * backward-data (src = dy, d = in channel). The weights are first reordered into wmat [taps][s][d].
 * `statisticsShift` (forward only): the kernel also sums dst's batch-norm statistics. `addend`
 * (backward-data only, shaped as dst): added to every value the kernel stores.
 */
export function implicitGemm(
  mode: 'forward' | 'backwardData', src: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tiles: ConvTiles,
  statisticsShift: Tensor | null = null, addend: Tensor | null = null,
): PassResult {
  const rt = src.runtime;
  const fwd = mode === 'forward';
  const { Hs, Ws, Cs, Hd, Wd, Cd, dstShape } = convSides(fwd, g);
  const taps = g.KH * g.KW;
  const tile = gemmTileFor(tiles.gemm, Cd, Cs * taps, g.N * Hd * Wd);
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
    rt.run(convWeightMatrixKernel, { workgroup: tiles.helperWorkgroup }, [w, wmat], {
      A: Cs, B: Cd, row4: CdPad / 4,
      // w[o][c][kh][kw]: the in-channel stride is taps, the out-channel stride C·taps.
      strideA: fwd ? taps : g.C * taps, strideB: fwd ? g.C * taps : taps,
    }, gridWorkgroups(CdPad / 4, Cs, taps, tiles.helperWorkgroup), traceArgs({ mode }));
  }
  // NCHW images of one pixel in and out (conv10's) are laid out as NHWC: the NHWC kernel, with its
  // channel-wise vector loads and stores, runs them.
  const layout = g.dataFormat === 'NCHW' && Hs * Ws === 1 && Hd * Wd === 1 ? 'NHWC' : g.dataFormat;
  const nchw = layout === 'NCHW';
  if (addend && (fwd || addend.size !== dstShape.reduce((a, b) => a * b, 1))) throw new Error(`implicitGemm: an addend is for backward-data and shaped [${dstShape}], got [${addend.shape}]`);
  const dst = allocTensor(dstShape);
  const pixels = g.N * Hd * Wd;
  const tilesP = Math.ceil(pixels / tile.pixels);
  // The statistics are summed per subgroup where the weights are shared by one (statisticsPerSubgroup).
  const perSubgroup = subgroupWeights > 0 && tile.workgroup % subgroupWeights === 0;
  const statistics = fwd ? outputStatistics(statisticsShift, g, perSubgroup ? Math.ceil(tilesP / subgroupWeights) : tilesP) : null;
  rt.run(convGemmKernel, {
    mode, layout, tilePixels: tile.pixels, tileChannels: tile.channels, workgroup: tile.workgroup, pointwise,
    dstVec4: nchw ? (Hd * Wd) % 4 === 0 : Cd % 4 === 0,
    bias: bias !== null, unroll: tile.unroll[layout],
    subgroupWeights, ...(weightsAsGiven ? { weightsAsGiven } : {}),
    ...(fwd && Cs * taps <= (tile.fixedSourceMaxReduction?.[layout] ?? 0) ? { fixedSource: { Cs, KH: g.KH, KW: g.KW } } : {}),
    srcVec2: (tile.pairLoads ?? false) && !nchw && tile.unroll.NHWC === 2 && Cs % 2 === 0,
    srcVec4Pixels: (tile.pairLoads ?? false) && nchw && pointwise && (Hd * Wd) % tile.pixels === 0,
    ...(statistics ? { statistics: true, ...(perSubgroup ? { statisticsPerSubgroup: true } : {}) } : {}),
    ...(addend ? { addend: true } : {}),
  }, [src, wmat, ...(bias ? [bias] : []), dst, ...(statistics ? [statistics.shift, statistics.partials] : []), ...(addend ? [addend] : [])], {
    Hs, Ws, Cs, Hd, Wd, Cd, KH: g.KH, KW: g.KW, strideH: g.strideH, strideW: g.strideW,
    padTop: g.padTop, padLeft: g.padLeft, pixels, tilesP, wRow4: CdPad / 4,
  }, [Math.ceil(tilesP / tile.workgroup), CdPad / tile.channels, 1], traceArgs({ mode, dataFormat: g.dataFormat, pointwise }));
  if (!wIsMatrix) wmat.dispose();
  return { dst, v: null, u: null, statistics };
}

/**
 * Backward-data as dcols [pixels of dy, C·KH·KW] = dy · w (w [O, C·KH·KW] is that matrix as it is:
 * NHWC one GEMM over all pixels, NCHW one per image with dy's [O, OH·OW] transposed), then the
 * col2im gather sums each dx pixel's taps. For inputs with few channels (conv1's 3), which would
 * leave most of the implicit GEMM's channel tile idle.
 */
export function gemmCol2im(dy: Tensor, w: Tensor, g: Conv2dGeometry, tiles: ConvTiles): Tensor {
  const rt = dy.runtime;
  const patch = g.C * g.KH * g.KW;
  const outPixels = g.OH * g.OW;
  const dcols = allocTensor([g.N * outPixels * patch]);
  if (g.dataFormat === 'NHWC') {
    gemm(rt, { a: dy, b: w, c: dcols, M: g.N * outPixels, N: patch, K: g.O });
  } else {
    gemm(rt, { a: dy, b: w, c: dcols, M: outPixels, N: patch, K: g.O, transA: true, batch: g.N, bBatchStride: 0 });
  }
  const dx = allocTensor(conv2dInputShape(g));
  rt.run(convCol2imKernel, { layout: g.dataFormat, C: g.C, workgroup: tiles.helperWorkgroup }, [dcols, dx], {
    H: g.H, W: g.W, OH: g.OH, OW: g.OW, KH: g.KH, KW: g.KW,
    strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft,
  }, gridWorkgroups(g.W, g.H, g.N, tiles.helperWorkgroup), traceArgs({ dataFormat: g.dataFormat }));
  dcols.dispose();
  return dx;
}

import { convTilesFor, FILTER_PATCH_MAX, winogradTileFor, type ConvTiles, type WinogradOutputTile } from '@squeeze/kernels-wgsl';
import { isPointwise, isWinogradShape, type Conv2dGeometry } from './geometry.js';
import { pointwiseFilterChunks } from './filter.js';

/**
 * Which algorithms an adapter may use; the planner below decides, pass by pass, where each applies.
 * Why each is on or off: bench/README.md, "Tuning choices".
 */
export interface ConvAlgorithms {
  /** Winograd F(m×m, 3×3) around a batched GEMM, for every pass of 3×3 stride-1 convolutions. */
  winogradGemm: boolean;
  /** backward-data of those as the adjoint of the Winograd-GEMM forward (dy's transform shared with the filter gradient). */
  winogradAdjointData: boolean;
  /** the fused Winograd F(2×2, 3×3) kernel for 3×3 stride-1 forward and backward-data. */
  winograd: boolean;
  /** backward-data as dcols = dy · w and a col2im gather below this many input channels (0: never). */
  colsDataBelowChannels: number;
  /** the small-patch filter gradient (NHWC, C·KH·KW ≤ 16). */
  filterPatch: boolean;
  /** 1×1 stride-1 filter gradients as the batched GEMM over pixel chunks. */
  pointwiseFilterGemm: boolean;
  /** NCHW filter gradients of kernels larger than 1×1 through NHWC transposes. */
  nchwFilterViaNhwc: boolean;
  /** forwards also sum their output's batch-norm statistics (conv2dWithStatistics; O % 4 == 0). */
  epilogueStatistics: boolean;
}

export const SOFTWARE_CONV_ALGORITHMS: ConvAlgorithms = {
  winogradGemm: true, winogradAdjointData: true, winograd: false, colsDataBelowChannels: 4,
  filterPatch: true, pointwiseFilterGemm: true, nchwFilterViaNhwc: true, epilogueStatistics: true,
};

export const HARDWARE_CONV_ALGORITHMS: ConvAlgorithms = {
  winogradGemm: false, winogradAdjointData: false, winograd: true, colsDataBelowChannels: 0,
  filterPatch: false, pointwiseFilterGemm: false, nchwFilterViaNhwc: false, epilogueStatistics: false,
};

/** What a convolution runs with: the algorithms the planner may choose and the kernels' tiles. */
export interface ConvTuning { algorithms: ConvAlgorithms; tiles: ConvTiles }

/** The tuning for an adapter, from its description (`software`: lavapipe, SwiftShader, WARP). */
export function convTuningFor(adapter: { software: boolean }): ConvTuning {
  return { algorithms: adapter.software ? SOFTWARE_CONV_ALGORITHMS : HARDWARE_CONV_ALGORITHMS, tiles: convTilesFor(adapter) };
}

export type ConvPass = 'forward' | 'backwardData' | 'backwardFilter';

/** How the forward runs; `statistics`: its kernel can also sum y's batch-norm statistics. */
export type ForwardPath =
  | { pass: 'forward'; algorithm: 'winogradGemm'; m: WinogradOutputTile; statistics: boolean }
  | { pass: 'forward'; algorithm: 'winograd' }
  | { pass: 'forward'; algorithm: 'implicitGemm'; statistics: boolean };

/** How backward-data (dx) runs. */
export type DataPath =
  | { pass: 'backwardData'; algorithm: 'winogradGemmAdjoint'; m: WinogradOutputTile }
  | { pass: 'backwardData'; algorithm: 'gemmCol2im' }
  | { pass: 'backwardData'; algorithm: 'winogradGemm'; m: WinogradOutputTile }
  | { pass: 'backwardData'; algorithm: 'winograd' }
  | { pass: 'backwardData'; algorithm: 'implicitGemm' };

/** How the filter gradient (dw) runs; `viaNhwc` transposes x and dy and runs `then` on them. */
export type FilterPath =
  | { pass: 'backwardFilter'; algorithm: 'winogradGemm'; m: WinogradOutputTile }
  | { pass: 'backwardFilter'; algorithm: 'filterPatch' }
  | { pass: 'backwardFilter'; algorithm: 'filterGemm' }
  | { pass: 'backwardFilter'; algorithm: 'viaNhwc'; then: FilterPath }
  | { pass: 'backwardFilter'; algorithm: 'filterPartials' };

export type ConvPath = ForwardPath | DataPath | FilterPath;

// ── the planner: one if-chain per pass; delete a line to switch its algorithm off ──────────────
// (Grouped or dilated convolutions are not planned here: conv2d() routes them to their own op first.)
//
// What SqueezeNet-on-CIFAR runs (forward | backward-data | backward-filter; both layouts alike but where said):
//   software: conv1 2×2 3→96        implicit GEMM | GEMM + col2im | filter patch (NCHW: filter partials)
//             1×1 squeeze, expand,  implicit GEMM | implicit GEMM | filter GEMM
//             conv10
//             expand3x3             winograd-gemm F(4×4) | its adjoint | winograd-gemm F(4×4)  (fire9's 4×4 images: F(2×2))
//   hardware: expand3x3             winograd F(2×2) | winograd F(2×2) | filter partials
//             every other layer     implicit GEMM | implicit GEMM | filter partials

export function planForward(g: Conv2dGeometry, t: ConvTuning): ForwardPath {
  const a = t.algorithms;
  const statistics = a.epilogueStatistics && g.O % 4 === 0;
  if (a.winogradGemm && isWinogradShape(g)) return { pass: 'forward', algorithm: 'winogradGemm', m: winogradM(t, g.OH, g.OW), statistics };
  if (a.winograd && isWinogradShape(g)) return { pass: 'forward', algorithm: 'winograd' };
  return { pass: 'forward', algorithm: 'implicitGemm', statistics };
}

export function planBackwardData(g: Conv2dGeometry, t: ConvTuning): DataPath {
  const a = t.algorithms;
  if (a.winogradGemm && a.winogradAdjointData && isWinogradShape(g)) return { pass: 'backwardData', algorithm: 'winogradGemmAdjoint', m: winogradM(t, g.OH, g.OW) };
  if (g.C < a.colsDataBelowChannels && g.KH * g.KW > 1) return { pass: 'backwardData', algorithm: 'gemmCol2im' };
  if (a.winogradGemm && isWinogradShape(g)) return { pass: 'backwardData', algorithm: 'winogradGemm', m: winogradM(t, g.H, g.W) };
  if (a.winograd && isWinogradShape(g)) return { pass: 'backwardData', algorithm: 'winograd' };
  return { pass: 'backwardData', algorithm: 'implicitGemm' };
}

/**
 * Whether backward-data along this path adds the gradient the input's other consumers already
 * produced in its epilogue (autograd's pending gradient), rather than autograd adding it after.
 */
export function dataAddsPending(p: DataPath): boolean {
  return p.algorithm === 'implicitGemm';
}

export function planBackwardFilter(g: Conv2dGeometry, t: ConvTuning): FilterPath {
  const a = t.algorithms;
  if (a.winogradGemm && isWinogradShape(g)) return { pass: 'backwardFilter', algorithm: 'winogradGemm', m: winogradM(t, g.OH, g.OW) };
  if (a.filterPatch && g.dataFormat === 'NHWC' && g.KH * g.KW > 1 && g.C * g.KH * g.KW <= FILTER_PATCH_MAX && g.O % 4 === 0) return { pass: 'backwardFilter', algorithm: 'filterPatch' };
  if (a.pointwiseFilterGemm && isPointwise(g) && (g.O % 4 === 0 || pointwiseFilterChunks(g, t.tiles).partials === 1)) return { pass: 'backwardFilter', algorithm: 'filterGemm' };
  if (a.nchwFilterViaNhwc && g.dataFormat === 'NCHW' && !isPointwise(g) && g.C % 4 === 0 && g.O % 4 === 0) return { pass: 'backwardFilter', algorithm: 'viaNhwc', then: planBackwardFilter({ ...g, dataFormat: 'NHWC' }, t) };
  return { pass: 'backwardFilter', algorithm: 'filterPartials' };
}

/** The path a pass of this convolution takes under a tuning (groups and dilation, once supported, route to their own op before this). */
export function planConv(g: Conv2dGeometry, pass: 'forward', t: ConvTuning): ForwardPath;
export function planConv(g: Conv2dGeometry, pass: 'backwardData', t: ConvTuning): DataPath;
export function planConv(g: Conv2dGeometry, pass: 'backwardFilter', t: ConvTuning): FilterPath;
export function planConv(g: Conv2dGeometry, pass: ConvPass, t: ConvTuning): ConvPath;
export function planConv(g: Conv2dGeometry, pass: ConvPass, t: ConvTuning): ConvPath {
  return pass === 'forward' ? planForward(g, t) : pass === 'backwardData' ? planBackwardData(g, t) : planBackwardFilter(g, t);
}

/**
 * A path's name for tables and traces: 'implicit GEMM', 'winograd-gemm F(4×4,3×3)' (' adjoint' for
 * backward-data as the forward's adjoint), 'winograd F(2×2,3×3)', 'GEMM + col2im', 'filter patch',
 * 'filter GEMM', 'filter partials', '… via NHWC'.
 */
export function describeConvPath(p: ConvPath): string {
  switch (p.algorithm) {
    case 'winogradGemm': return `winograd-gemm F(${p.m}×${p.m},3×3)`;
    case 'winogradGemmAdjoint': return `winograd-gemm F(${p.m}×${p.m},3×3) adjoint`;
    case 'winograd': return 'winograd F(2×2,3×3)';
    case 'implicitGemm': return 'implicit GEMM';
    case 'gemmCol2im': return 'GEMM + col2im';
    case 'filterPatch': return 'filter patch';
    case 'filterGemm': return 'filter GEMM';
    case 'filterPartials': return 'filter partials';
    case 'viaNhwc': return `${describeConvPath(p.then)} via NHWC`;
  }
}

/** Winograd-GEMM's tile size for a destination of Hd × Wd pixels. */
function winogradM(t: ConvTuning, Hd: number, Wd: number): WinogradOutputTile {
  if (!t.tiles.winogradGemm) throw new Error('conv2d: the tuning turns winogradGemm on but its tiles have no winogradGemm entry');
  return winogradTileFor(t.tiles.winogradGemm, Hd, Wd);
}

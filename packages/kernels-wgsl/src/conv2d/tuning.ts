import type { WinogradOutputTile } from './winograd-gemm.js';

/**
 * Tile shapes and workgroup sizes of the fast convolution kernels. Each invocation computes a
 * register tile (no workgroup memory, no barriers): on a software adapter (lavapipe runs every
 * invocation as one SIMD lane of a CPU thread) loads are the expensive part, so a tile reuses every
 * loaded value across a whole row or column of multiply-adds.
 */
export interface ConvGemmTile {
  /** source channels per step of the GEMM's channel loop (1, 2 or 4), per data format. */
  unroll: { NCHW: number; NHWC: number };
  /** output pixels per invocation (a multiple of 4: NCHW stores 4 pixels as one vec4). */
  pixels: number;
  /** output channels per invocation (a multiple of 4: channels are accumulated as vec4). */
  channels: number;
  /** invocations per workgroup. */
  workgroup: number;
  /**
   * Assemble each step's weight row (`channels` floats, the same for every lane of a workgroup) from
   * channels / subgroup-size loads per lane and subgroupBroadcast, instead of every lane loading the
   * whole row. Used where the adapter has 'subgroups' with one fixed size that divides `channels`.
   */
  subgroupWeights?: boolean;
  /**
   * Wider source loads where the layout keeps values together: NHWC with two channels per step and
   * an even source channel count loads both as one vec2; NCHW 1×1 (stride 1, no padding) with H·W a
   * multiple of `pixels` loads a tile's pixels as vec4s.
   */
  pairLoads?: boolean;
  /**
   * With subgroupWeights, 1×1 forwards (stride 1, no padding) read the filter w [out][in] as given,
   * each lane its own columns, instead of a copy reordered into rows of out channels: one pass fewer
   * per convolution.
   */
  weightsAsGiven?: boolean;
  /**
   * Per data format, forward GEMMs whose reduction (source channels × taps) is at most this compile the
   * source channel count and kernel size in (the kernel's fixedSource), so that the loops unroll;
   * absent or 0: never. A pipeline per such shape: meant for a network's few tiny-input layers.
   */
  fixedSourceMaxReduction?: { NCHW: number; NHWC: number };
  /**
   * Tiles for convolutions with more destination channels: of the entries whose `minChannels` the
   * destination channel count reaches, the one that pads it least replaces `pixels` × `channels`
   * (see `gemmTileFor`). With subgroupWeights a wider channel tile costs each lane few extra loads, while
   * fewer pixels per lane save one per-lane source load each.
   */
  wide?: ReadonlyArray<{
    minChannels: number; pixels: number; channels: number;
    /**
     * Only for GEMMs whose reduction (source channels × taps) is at most this: with so few
     * multiply-adds per output, the per-pixel index arithmetic and the stores are what a lane
     * spends, and fewer pixels with more channels each cost less of them (conv1: 3 channels × 4 taps).
     */
    maxReduction?: number;
  }>;
}

/**
 * The GEMM tile for a convolution writing `destChannels` channels of `pixels` pixels (over the
 * batch) over a reduction of `reduction` (source channels × taps): of the `wide` entries whose
 * `minChannels` (and `maxReduction`) it meets, the one whose channel tiles pad `destChannels` least
 * (the first of equals); none: the tile itself. Where its pixel tiles would not fill one workgroup
 * (conv10: 32 pixels), tiles of 4 pixels spread the little work over more lanes.
 */
export function gemmTileFor(tile: ConvGemmTile, destChannels: number, reduction = Infinity, pixels = Infinity): ConvGemmTile {
  const padded = (channels: number) => Math.ceil(destChannels / channels) * channels;
  let wide: { pixels: number; channels: number } | undefined;
  for (const w of tile.wide ?? []) {
    if (destChannels < w.minChannels || reduction > (w.maxReduction ?? Infinity)) continue;
    if (!wide || padded(w.channels) < padded(wide.channels)) wide = w;
  }
  const chosen = wide ? { ...tile, pixels: wide.pixels, channels: wide.channels } : tile;
  return Math.ceil(pixels / chosen.pixels) < chosen.workgroup ? { ...chosen, pixels: MIN_TILE_PIXELS } : chosen;
}

/** The fewest destination pixels a GEMM tile takes (NCHW stores 4 pixels as one vec4). */
const MIN_TILE_PIXELS = 4;

export interface ConvFilterTile {
  /** input channels (rows of the filter gradient) per invocation. */
  inChannels: number;
  /** output channels per invocation (a multiple of 4). */
  outChannels: number;
  workgroup: number;
  /**
   * Pixels (over batch × output height × width) one invocation sums before writing its partial
   * result; the partials are summed by a second kernel. A multiple of 4.
   */
  chunkPixels: number;
  /**
   * NHWC: where the output tiles per (input tile, tap, chunk) are a multiple of the subgroup size,
   * share each x row across the subgroup (one load per lane, subgroupBroadcast) instead of every
   * lane loading it.
   */
  subgroupX?: boolean;
}

/**
 * Filter gradients of convolutions with a small patch (C·KH·KW ≤ FILTER_PATCH_MAX, NHWC, O % 4 == 0):
 * all the patch's rows per invocation (filter-patch.ts) instead of one tap at a time. A lane's cost
 * is its C·KH·KW scalar patch loads per pixel, so wide output tiles pay even though their
 * accumulators spill.
 */
export interface ConvFilterPatchTile {
  /** output channels per invocation (a multiple of 4). */
  outChannels: number;
  workgroup: number;
  /** convolution pixels one invocation sums before writing its partial (a multiple of 4). */
  chunkPixels: number;
}

/** Winograd F(2×2, 3×3) for 3×3 stride-1 forward and backward-data (winograd.ts). */
export interface ConvWinogradTile {
  /** destination channels per invocation (a multiple of 4); each invocation does one 2×2 tile. */
  channels: number;
  workgroup: number;
  /** source channels per step of the channel loop (1 or 2). */
  unroll: number;
}

/** The tiles of Winograd around a batched GEMM (winograd-gemm.ts) for 3×3 stride-1 convolutions. */
export interface ConvWinogradGemmTile {
  /** destination pixels per tile side: F(m×m, 3×3). */
  m: WinogradOutputTile;
  /**
   * Destinations smaller than this in height or width use F(2×2, 3×3) instead: more, smaller tiles
   * give the GEMM more rows to spread its lanes over (a 4×4 image is one 4×4 tile).
   */
  m2Below: number;
}

/** The Winograd tile size for a destination of Hd × Wd pixels. */
export function winogradTileFor(w: ConvWinogradGemmTile, Hd: number, Wd: number): WinogradOutputTile {
  return Math.min(Hd, Wd) < w.m2Below ? 2 : w.m;
}

/**
 * Tile shapes and workgroup sizes of every convolution kernel, per adapter. Which algorithm runs is
 * not chosen here but by core's conv2d planner (ops/conv2d/plan.ts); a tile that its algorithm never
 * uses on an adapter may be left out. Why each value: bench/README.md, "Tuning choices".
 */
export interface ConvTiles {
  /** the implicit GEMM of forward and backward-data (taps × source channels). */
  gemm: ConvGemmTile;
  /** the fused Winograd F(2×2, 3×3) kernel (winograd.ts). */
  winograd?: ConvWinogradTile;
  /** Winograd around the batched GEMM (winograd-gemm.ts). */
  winogradGemm?: ConvWinogradGemmTile;
  /** the per-tap filter gradient, per data format: NHWC loads x and dy as vec4 along channels, NCHW along pixels. */
  backwardFilter: { NCHW: ConvFilterTile; NHWC: ConvFilterTile };
  /** the small-patch filter gradient (filter-patch.ts). */
  filterPatch?: ConvFilterPatchTile;
  /** invocations per workgroup of the small helper kernels (weight reorder, transforms, partial sums, bias). */
  helperWorkgroup: number;
}

/**
 * lavapipe and other software adapters, where a per-lane load costs several vec4 multiply-adds:
 * large register tiles that reuse each load, weights and x rows shared through subgroups.
 */
export const SOFTWARE_CONV_TILES: ConvTiles = {
  gemm: {
    pixels: 16, channels: 16, workgroup: 16, unroll: { NCHW: 1, NHWC: 2 }, subgroupWeights: true, pairLoads: true, weightsAsGiven: true,
    fixedSourceMaxReduction: { NCHW: 0, NHWC: 16 },
    wide: [
      { minChannels: 96, maxReduction: 16, pixels: 4, channels: 96 },
      { minChannels: 32, pixels: 8, channels: 32 }, { minChannels: 48, pixels: 8, channels: 48 },
    ],
  },
  winogradGemm: { m: 4, m2Below: 8 },
  backwardFilter: {
    NCHW: { inChannels: 8, outChannels: 8, workgroup: 16, chunkPixels: 512 },
    NHWC: { inChannels: 16, outChannels: 16, workgroup: 16, chunkPixels: 512, subgroupX: true },
  },
  filterPatch: { outChannels: 32, workgroup: 16, chunkPixels: 512 },
  helperWorkgroup: 64,
};

/** GPUs: small tiles in wide workgroups (many invocations), longer channel steps, short filter-gradient chunks. */
export const HARDWARE_CONV_TILES: ConvTiles = {
  gemm: { pixels: 4, channels: 8, workgroup: 64, unroll: { NCHW: 4, NHWC: 4 } },
  winograd: { channels: 8, workgroup: 32, unroll: 2 },
  backwardFilter: {
    NCHW: { inChannels: 4, outChannels: 8, workgroup: 64, chunkPixels: 128 },
    NHWC: { inChannels: 4, outChannels: 8, workgroup: 64, chunkPixels: 128 },
  },
  helperWorkgroup: 64,
};

/** The tiles for an adapter, from its description (`software`: lavapipe, SwiftShader, WARP). */
export function convTilesFor(adapter: { software: boolean }): ConvTiles {
  return adapter.software ? SOFTWARE_CONV_TILES : HARDWARE_CONV_TILES;
}

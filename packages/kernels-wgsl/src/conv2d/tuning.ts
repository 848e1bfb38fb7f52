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
 * (conv10: 32 pixels), tiles of 4 pixels spread the little work over more lanes (conv10's forward
 * on lavapipe 0.44 → 0.24–0.29 ms, its GEMM ceiling's time).
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
 * all the patch's rows per invocation (filter-patch.ts) instead of one tap at a time.
 * On lavapipe a lane's cost is its C·KH·KW scalar patch loads per pixel, so wide output tiles pay
 * even though their accumulators spill: SqueezeNet's conv1 filter gradient with the batch-norm +
 * pool backward computed in the kernel took 18–22 ms with 8 or 16 output channels per invocation
 * and 8.6–9.7 ms with 32, 48 or 96 (in training steps taking turns, GPU timestamps, medians of 6,
 * 2026-11-26; chunks of 256 or 2048 pixels and workgroups of 8 the same), against 21 ms for the
 * per-tap kernel plus the separate full-size gradient pass it replaces.
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

/** Winograd around a batched GEMM (winograd-gemm.ts) for every pass of 3×3 stride-1 convolutions. */
export interface ConvWinogradGemm {
  /** destination pixels per tile side: F(m×m, 3×3). */
  m: WinogradOutputTile;
  /**
   * Destinations smaller than this in height or width use F(2×2, 3×3) instead: more, smaller tiles
   * give the GEMM more rows to spread its lanes over (a 4×4 image is one 4×4 tile).
   */
  m2Below: number;
  /**
   * Backward-data as the adjoint of the forward's passes, dx = Σ_tiles B (U ⊙ A dY Aᵀ) Bᵀ: dy's
   * transform Z is the filter gradient's (computed once for both), the filter U is the forward's
   * (not flipped), and the α×α patch gradients are gathered into dx; instead of the forward
   * convolution of dy with the flipped filter, whose input transform runs over dy's channels.
   */
  adjointData?: boolean;
}

/** The Winograd tile size for a destination of Hd × Wd pixels. */
export function winogradTileFor(w: ConvWinogradGemm, Hd: number, Wd: number): WinogradOutputTile {
  return Math.min(Hd, Wd) < w.m2Below ? 2 : w.m;
}

export interface ConvTuning {
  /** forward and backward-data (both are an implicit GEMM over taps × source channels). */
  gemm: ConvGemmTile;
  /** 3×3 stride-1 forward and backward-data through Winograd instead of the GEMM; null: GEMM. */
  winograd: ConvWinogradTile | null;
  /**
   * 3×3 stride-1 forward, backward-data and filter gradient through Winograd F(m×m, 3×3) around a
   * batched GEMM (winograd-gemm.ts); checked before `winograd` and `backwardFilter`. Absent or null:
   * not used.
   */
  winogradGemm?: ConvWinogradGemm | null;
  /** per data format: NHWC loads x and dy as vec4 along channels, NCHW along pixels. */
  backwardFilter: { NCHW: ConvFilterTile; NHWC: ConvFilterTile };
  /** small-patch NHWC filter gradients (see ConvFilterPatchTile); absent or null: `backwardFilter`. */
  filterPatch?: ConvFilterPatchTile | null;
  /**
   * 1×1 stride-1 filter gradients as the batched GEMM over chunks of pixels (NHWC:
   * `backwardFilter.NHWC.chunkPixels` each; NCHW: as many whole images per partial as fit in
   * `backwardFilter.NCHW.chunkPixels`) instead of `backwardFilter`; O % 4 == 0 unless one partial
   * holds them all (core's pointwiseFilterGemmApplies).
   */
  pointwiseFilterGemm?: boolean;
  /**
   * Backward-data of convolutions with fewer input channels than this (and a kernel larger than
   * 1×1) as dcols = dy · w through the GEMM, then a col2im gather (col2im.ts), instead of the
   * implicit GEMM, whose channel tile dx's few channels would leave mostly idle (conv1: 3 of 16).
   */
  colsDataBelowChannels?: number;
  /**
   * NHWC forwards (implicit GEMM, Winograd-GEMM) also sum their output's batch-norm statistics
   * per tile when asked (core's conv2dWithStatistics), sparing the batch norm a pass over it.
   */
  epilogueStatistics?: boolean;
  /** invocations per workgroup of the small helper kernels (weight reorder, partial sums, bias). */
  helperWorkgroup: number;
  /**
   * NCHW filter gradients of kernels larger than 1×1 (C and O multiples of 4): transpose x and dy to
   * NHWC and run the NHWC kernel, whose vec4 loads along channels beat NCHW's per-pixel loads by
   * more than the two transposes cost. On lavapipe (GPU timestamps, 2026-11-25) the 3×3 filter
   * gradients of SqueezeNet took 0.53–0.88× the time, transposes included (fire4 50 → 27 ms, fire8
   * 45 → 28 ms); for 1×1 convolutions it did not pay (0.8–1.8×), so they stay in NCHW.
   */
  nchwFilterViaNHWC: boolean;
}

/**
 * Measured on lavapipe (Mesa 25.0, llvmpipe, 2 cores) with the SqueezeNet-on-CIFAR shapes at batch
 * 32 (conv2d.bench.ts). There every divergent load is a per-lane loop costing about as much as ten
 * vec4 FMAs, so large register tiles win even though they spill: the 16×16 GEMM tile is ~25% faster
 * than 8×8 (but takes ~6 s instead of ~1 s to compile per variant; Mesa caches compiled shaders on
 * disk). The workgroup size made no measurable difference (8–64).
 * lavapipe blends every write of a loop-carried value with the loop's lane mask, so in NHWC the
 * GEMM's channel loop takes two channels per step (each accumulator written once per step): 10–25%
 * faster backward-data, 1–5% faster forward by GPU timestamps; four per step spills and is 40–80%
 * slower (also with each pixel's four channels as one vec4 load: 30–45% slower). In NCHW (strided
 * channel loads) two per step is 3–19% slower, so it stays at one.
 * (Also measured and dropped, 2026-11-25: reading the [O, C, KH, KW] weights directly instead of
 * the reordered vec4 rows, 5–45% slower even counting the reorder pass; NHWC filter gradients over
 * two pixels per step, ~5% slower.)
 * Not the fused Winograd kernel: fire4/expand3x3 forward took 106–128 ms with it against 29 ms with
 * the GEMM (GPU timestamps, 2026-11-26). A 2×2 tile needs 16 transformed-filter vec4 loads per source
 * channel and 4 destination channels, and lavapipe runs every such load per lane even when its
 * address is the same for the whole workgroup (also from a uniform buffer: a vec4 load per FMA ran at
 * 3.3 GFLOP/s from storage, 4.4–4.9 from a uniform buffer); without those loads the same kernel took
 * 9 ms. Loads, not multiplies, are what lavapipe pays for. Hence `subgroupWeights`: each lane
 * loads 2 of a step's 16 weights and subgroupBroadcast (a register shuffle on lavapipe, subgroups of
 * 8) hands them round: forward and backward-data 4–20 % faster on fire4's 1×1 and 3×3 shapes in both
 * layouts (GPU timestamps, 2026-11-26). Likewise `pairLoads`: NHWC's two source channels per step
 * as one vec2 load per pixel instead of two scalar loads, 5–22 % faster on the squeeze and 3×3
 * shapes (fire2/6/8 squeeze, fire8 expand3x3 forward 23.4 → 18.1 ms; medians of 9); and NCHW 1×1
 * convolutions load a tile's 16 consecutive pixels as 4 vec4s: 11–52 % faster (fire6/squeeze
 * forward 3.68 → 1.85 ms, fire4/expand1x1 backward-data 4.91 → 2.36 ms). The NHWC filter gradient
 * shares x rows the same way where a subgroup's lanes have the same input tile (`subgroupX`: 128 and
 * 256 output channels, i.e. 8 or 16 output tiles): 16–39 % faster (fire4/expand3x3 30.4 → 22.1 ms,
 * fire8/expand3x3 28.5 → 18.7 ms; medians of 7).
 * Winograd around the batched GEMM (`winogradGemm`, sixth session) keeps the multiply-adds in the
 * subgroup-shared GEMM tile, unlike the fused kernel above: F(4×4, 3×3) does 4× fewer of them, and
 * the transforms are streaming passes. Per shape (GPU timestamps, candidates taking turns, medians
 * of 5, 2026-11-26) the 3×3 layers' forward and backward-data took 2–3.5× less time than the
 * implicit GEMM (NHWC fire4/expand3x3 26.8 → 10.3 ms forward, 28.0 → 9.8 ms backward-data; fire8
 * backward-data 26.2 → 7.4 ms) and the filter gradient 2–4× less (fire4 29.2 → 9.4 ms, fire8
 * 30.8 → 7.5 ms), except on 4×4 images (fire9: one tile per image), where F(2×2, 3×3) wins
 * (7.5 → 6.3 / 9.0 → 5.2 ms) and F(4×4) does not; so these layers' filter-gradient tiles above
 * now matter only where Winograd is off.
 * Once weights are shared that way, a lane's loads per source channel are its tile's pixels (one
 * each) plus channels / 8 weights: 16 + 2 for the 16×16 tile, 8 + 4 for 8 pixels × 32 channels —
 * the same 256 multiply-adds for a third fewer loads. (A micro-benchmark on this adapter: a per-lane
 * load costs ~25 cycles per float whatever its width, a vec4 FMA ~6.) So convolutions writing at
 * least 32 channels use 8 × 32 (`wide`): fire8/expand3x3 NHWC forward 26.6 → 18.5 ms and
 * backward-data 30.6 → 15.4 ms, fire4/squeeze 13.8 → 9.0 / 10.5 → 8.0 ms (medians of 5, candidates
 * taking turns); all GEMMs of a training step 268 → 206 ms (NHWC) and 277 → 239 ms (NCHW), GPU
 * timestamps, runs taking turns, medians of 8 (2026-11-26). 8 × 64 for 128 channels and more was no
 * better over a whole step (214 ms).
 * 48 destination channels (fire6/7's squeeze forward, their expand1x1 backward-data) take 8 × 48
 * rather than padding to two 8 × 32 tiles: forward 256 → 48 at 8×8 3.36 → 2.91 ms, 384 → 48
 * 2.92 → 2.17 ms, backward-data 192 → 48 2.55 → 1.98 ms (GPU timestamps, candidates taking turns,
 * medians of 7, 2026-11-26).
 * conv1's forward (12-long reduction, 96 channels) takes 4 × 96: NHWC 7.55 → 6.85 ms, NCHW 5.93 →
 * 5.40 (8 × 48 7.37 / 5.58, 16 × 32 8.21 / 5.82; medians of 7, same method, 2026-11-26, tenth
 * session), with its 3 channels and 2 × 2 taps compiled in (fixedSourceMaxReduction) in NHWC: 6.97
 * → 5.46 ms (NCHW 5.39 → 6.29, so not there; medians of 11). Its backward-data (3 destination
 * channels) runs as GEMM + col2im (colsDataBelowChannels): 12.6 → 4.4 ms NHWC, 14.5 → 4.2 NCHW.
 */
export const SOFTWARE_CONV_TUNING: ConvTuning = {
  gemm: {
    pixels: 16, channels: 16, workgroup: 16, unroll: { NCHW: 1, NHWC: 2 }, subgroupWeights: true, pairLoads: true, weightsAsGiven: true,
    fixedSourceMaxReduction: { NCHW: 0, NHWC: 16 },
    wide: [
      { minChannels: 96, maxReduction: 16, pixels: 4, channels: 96 },
      { minChannels: 32, pixels: 8, channels: 32 }, { minChannels: 48, pixels: 8, channels: 48 },
    ],
  },
  winograd: null,
  winogradGemm: { m: 4, m2Below: 8, adjointData: true },
  backwardFilter: {
    NCHW: { inChannels: 8, outChannels: 8, workgroup: 16, chunkPixels: 512 },
    NHWC: { inChannels: 16, outChannels: 16, workgroup: 16, chunkPixels: 512, subgroupX: true },
  },
  filterPatch: { outChannels: 32, workgroup: 16, chunkPixels: 512 },
  pointwiseFilterGemm: true,
  colsDataBelowChannels: 4,
  epilogueStatistics: true,
  helperWorkgroup: 64,
  nchwFilterViaNHWC: true,
};

/**
 * Measured on an NVIDIA H100 (Vulkan through Dawn, driver 580.159, 2026-11-25) with the
 * SqueezeNet-on-CIFAR shapes at batch 32: candidates taking turns, GPU timestamps, medians of 7,
 * summed over the 26 convolutions of a training step (bench/device/tuning-sweep-*.json).
 * A 4×8 GEMM tile in 64-wide workgroups beat 4×4, 8×4, 8×8, 4×16, 8×16, 16×8 and the software
 * 16×16 tile (3–5× slower here). Unlike lavapipe, the GPU likes longer channel steps: 1 → 2 → 4
 * source channels per step took the NCHW GEMMs from 2.36 to 1.76 to 1.54 ms (forward) and 4.76 →
 * 3.57 → 3.16 ms (backward-data); NHWC 4.10 → 4.13 → 3.84 and 7.10 → 6.39 → 5.40 ms (a second
 * sweep, same method; 32-wide workgroups were within 5 %).
 * Filter gradients want many invocations more than long sums: chunks of 128 pixels instead of 512
 * took them from 3.75 to 2.23 ms (NCHW) and 6.93 to 2.97 ms (NHWC); 2048 was 3× slower.
 * NCHW filter gradients through NHWC transposes were slower here (4.59 ms), so they stay in NCHW.
 * Winograd F(2×2, 3×3) for the 3×3 layers (fourth sweep, 8 channels per invocation, 32-wide
 * workgroups, 2 channels per step; 4 and 16 channels were slower): all convolutions' forward
 * 2.07 → 1.87 ms (NCHW) and 3.13 → 2.64 ms (NHWC), backward-data 3.54 → 2.23 and 4.39 → 3.15 ms.
 */
export const HARDWARE_CONV_TUNING: ConvTuning = {
  gemm: { pixels: 4, channels: 8, workgroup: 64, unroll: { NCHW: 4, NHWC: 4 } },
  winograd: { channels: 8, workgroup: 32, unroll: 2 },
  backwardFilter: {
    NCHW: { inChannels: 4, outChannels: 8, workgroup: 64, chunkPixels: 128 },
    NHWC: { inChannels: 4, outChannels: 8, workgroup: 64, chunkPixels: 128 },
  },
  helperWorkgroup: 64,
  nchwFilterViaNHWC: false,
};

/** The tuning for an adapter, from its description (`software`: lavapipe, SwiftShader, WARP). */
export function convTuningFor(adapter: { software: boolean }): ConvTuning {
  return adapter.software ? SOFTWARE_CONV_TUNING : HARDWARE_CONV_TUNING;
}

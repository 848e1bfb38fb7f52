import { fastGemmKernel, simpleGemmKernel, FAST_GEMM_TILE, SIMPLE_GEMM_WG, SUBGROUP_GEMM_TILE, SUBGROUP_GEMM_TILES, type GemmTile } from '@squeeze/kernels-wgsl';
import type { Bindable, Runtime } from '../../runtime/runtime.js';
import { subgroupSizeDividing } from '../../runtime/device.js';
import { roundUp } from '../shape.js';

/** A GEMM on raw buffers; see `gemm`. Counts and offsets are in elements (f32). */
export interface GemmArgs {
  a: Bindable;
  b: Bindable;
  c: Bindable;
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] (op(A) = Aᵀ). */
  transA?: boolean;
  /** B is stored [N, K] (op(B) = Bᵀ). */
  transB?: boolean;
  /** number of independent products (default 1). */
  batch?: number;
  /** elements between consecutive batch items (defaults: dense M·K, K·N, M·N; 0 broadcasts an operand). */
  aBatchStride?: number;
  bBatchStride?: number;
  cBatchStride?: number;
  /** element offset of the first matrix in each buffer (default 0). */
  aOffset?: number;
  bOffset?: number;
  cOffset?: number;
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  accumulate?: boolean;
  /**
   * Batch items summed into each C (default 1): C[g] (+)= Σ op(A[b])·op(B[b]) over b = g·sumItems …
   * (g + 1)·sumItems − 1, so there are batch / sumItems outputs (batch must be a multiple).
   */
  sumItems?: number;
}

/** Which kernel runs: the register-tiled one (default), or the one-output-per-invocation oracle. */
export interface GemmOptions {
  kernel?: 'fast' | 'simple';
  /** overrides the default tile and lane axis (`defaultGemmTile`; the benchmark compares tile shapes). */
  tile?: GemmTile;
}

/**
 * The tile `gemm` uses unless told otherwise. On a software adapter with a fixed subgroup size that
 * divides the workgroup, and where M has at least as many tiles as N (lanes along M, sharing their
 * columns), SUBGROUP_GEMM_TILE with B shared across each subgroup, or a narrower variant where that
 * would pad M or N less (SUBGROUP_GEMM_TILES); else FAST_GEMM_TILE with its lanes along the
 * dimension with more tiles, so that a workgroup's lanes are mostly busy (e.g. N = 16 output
 * channels are only 2 tiles wide: spread along M instead).
 */
export function defaultGemmTile(rt: Runtime, M: number, N: number): GemmTile {
  const shared = SUBGROUP_GEMM_TILE;
  const size = subgroupSizeDividing(rt.description, shared.wg);
  if (rt.description.software && size > 0 && Math.ceil(M / shared.rows) >= Math.ceil(N / shared.cols)) {
    // Among the subgroup tiles (SUBGROUP_GEMM_TILES, preferred first), the one that pads least.
    const padded = (t: Omit<GemmTile, 'lanes'>) => roundUp(M, t.rows * t.wg) * roundUp(N, t.cols);
    let best = shared;
    for (const t of SUBGROUP_GEMM_TILES) {
      if (subgroupSizeDividing(rt.description, t.wg) === size && padded(t) < padded(best)) best = t;
    }
    return { ...best, lanes: 'm', subgroupB: size };
  }
  return { ...FAST_GEMM_TILE, lanes: Math.ceil(N / FAST_GEMM_TILE.cols) >= Math.ceil(M / FAST_GEMM_TILE.rows) ? 'n' : 'm' };
}

/**
 * Records C[b] (+)= op(A[b])·op(B[b]) for b < batch on raw buffers (no tensors, no autograd), with
 * op(A) [M, K] and op(B) [K, N] row-major, A/B optionally stored transposed so callers never
 * materialise a transpose (dA = dC·Bᵀ: transB; dB = Aᵀ·dC: transA).
 *
 * Meant for reuse beyond `matmul`: e.g. a 1×1 convolution in NCHW is, per image b,
 * Y[b] [Cout, HW] = W [Cout, Cin] · X[b] [Cin, HW] → `gemm(rt, { a: w, b: x, c: y, M: Cout, K: Cin,
 * N: H·W, batch: N, aBatchStride: 0 })`; `cOffset`/`cBatchStride` let it write straight into a
 * channel slice of a larger (concatenated) output.
 *
 * The fast kernel binds an operand as vec4s when its contiguous dimension, offset and batch stride
 * are multiples of 4 (faster on every device measured), else falls back to scalar loads.
 */
export function gemm(rt: Runtime, args: GemmArgs, opts: GemmOptions = {}): void {
  const { M, N, K } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const batch = args.batch ?? 1;
  const sumItems = args.sumItems ?? 1;
  for (const [name, v] of Object.entries({ M, N, K, batch, sumItems })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemm: ${name} must be a non-negative integer, got ${v}`);
  }
  if (sumItems === 0 || batch % sumItems !== 0) throw new Error(`gemm: batch (${batch}) must be a multiple of sumItems (${sumItems})`);
  if (M === 0 || N === 0 || batch === 0) return;
  const outputs = batch / sumItems;
  const uniforms = {
    M, N, K,
    aOffset: args.aOffset ?? 0, bOffset: args.bOffset ?? 0, cOffset: args.cOffset ?? 0,
    aBatchStride: args.aBatchStride ?? M * K, bBatchStride: args.bBatchStride ?? K * N, cBatchStride: args.cBatchStride ?? M * N,
    sumItems,
  };
  const layout = { transA, transB, accumulate: args.accumulate ?? false, ...(sumItems > 1 ? { sumsItems: true } : {}) };
  if (opts.kernel === 'simple') {
    rt.run(simpleGemmKernel, layout, [args.a, args.b, args.c], uniforms,
      [Math.ceil(N / SIMPLE_GEMM_WG[0]), Math.ceil(M / SIMPLE_GEMM_WG[1]), outputs], { M, N, K, batch });
    return;
  }
  const tile = opts.tile ?? defaultGemmTile(rt, M, N);
  const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const params = {
    ...layout,
    tile,
    vecA: aligned(transA ? M : K, uniforms.aOffset, uniforms.aBatchStride),
    vecB: aligned(transB ? K : N, uniforms.bOffset, uniforms.bBatchStride),
    vecC: aligned(N, uniforms.cOffset, uniforms.cBatchStride),
  };
  const tilesN = Math.ceil(N / tile.cols);
  const tilesM = Math.ceil(M / tile.rows);
  const workgroups: [number, number, number] = tile.lanes === 'n'
    ? [Math.ceil(tilesN / tile.wg), tilesM, outputs]
    : [tilesN, Math.ceil(tilesM / tile.wg), outputs];
  rt.run(fastGemmKernel, params, [args.a, args.b, args.c], uniforms, workgroups, { M, N, K, batch });
}

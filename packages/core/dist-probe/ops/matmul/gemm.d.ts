import { type GemmTile } from '@squeeze/kernels-wgsl';
import type { Bindable, Runtime } from '../../runtime/runtime.js';
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
}
/** Which kernel runs: the register-tiled one (default), or the one-output-per-invocation oracle. */
export interface GemmOptions {
    kernel?: 'fast' | 'simple';
    /** overrides FAST_GEMM_TILE and the lane axis (used by the benchmark to compare tile shapes). */
    tile?: GemmTile;
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
export declare function gemm(rt: Runtime, args: GemmArgs, opts?: GemmOptions): void;

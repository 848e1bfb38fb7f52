/** Plain float64 reference GEMM: C[b] = op(A[b])·op(B[b]) (+ C when `accumulate` is given). */
export declare function gemmRef(opts: {
    a: ArrayLike<number>;
    b: ArrayLike<number>;
    M: number;
    N: number;
    K: number;
    transA?: boolean;
    transB?: boolean;
    batch?: number;
    aBatchStride?: number;
    bBatchStride?: number;
    aOffset?: number;
    bOffset?: number;
    accumulate?: ArrayLike<number>;
}): Float64Array;
/** [M,K]×[K,N] or batched [B,M,K]×[B,K,N], as `matmul`. */
export declare function matmulRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[]): Float64Array;

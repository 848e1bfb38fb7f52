/** Plain float64 reference GEMM: C[b] = op(A[b])·op(B[b]) (+ C when `accumulate` is given). */
export function gemmRef(opts) {
    const { a, b, M, N, K } = opts;
    const batch = opts.batch ?? 1;
    const sa = opts.aBatchStride ?? M * K;
    const sb = opts.bBatchStride ?? K * N;
    const out = new Float64Array(batch * M * N);
    for (let z = 0; z < batch; z++) {
        const ab = (opts.aOffset ?? 0) + z * sa;
        const bb = (opts.bOffset ?? 0) + z * sb;
        for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
                let acc = opts.accumulate ? opts.accumulate[(z * M + m) * N + n] : 0;
                for (let k = 0; k < K; k++) {
                    const av = a[ab + (opts.transA ? k * M + m : m * K + k)];
                    const bv = b[bb + (opts.transB ? n * K + k : k * N + n)];
                    acc += av * bv;
                }
                out[(z * M + m) * N + n] = acc;
            }
        }
    }
    return out;
}
/** [M,K]×[K,N] or batched [B,M,K]×[B,K,N], as `matmul`. */
export function matmulRef(a, aShape, b, bShape) {
    const [M, K] = aShape.slice(-2);
    const N = bShape[bShape.length - 1];
    return gemmRef({ a, b, M, N, K, batch: aShape.length === 3 ? aShape[0] : 1 });
}
//# sourceMappingURL=reference.js.map
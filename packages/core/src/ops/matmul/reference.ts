/** Plain float64 reference GEMM: C[b] = op(A[b])·op(B[b]) (+ C when `accumulate` is given). */
export function gemmRef(opts: {
  a: ArrayLike<number>; b: ArrayLike<number>; M: number; N: number; K: number;
  transA?: boolean; transB?: boolean; batch?: number;
  aBatchStride?: number; bBatchStride?: number; aOffset?: number; bOffset?: number;
  accumulate?: ArrayLike<number>;
  /** batch items summed into each output (gemm's sumItems). */
  sumItems?: number;
}): Float64Array {
  const { a, b, M, N, K } = opts;
  const batch = opts.batch ?? 1;
  const sumItems = opts.sumItems ?? 1;
  const sa = opts.aBatchStride ?? M * K;
  const sb = opts.bBatchStride ?? K * N;
  const out = new Float64Array((batch / sumItems) * M * N);
  for (let g = 0; g < batch / sumItems; g++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = opts.accumulate ? opts.accumulate[(g * M + m) * N + n]! : 0;
        for (let z = g * sumItems; z < (g + 1) * sumItems; z++) {
          const ab = (opts.aOffset ?? 0) + z * sa;
          const bb = (opts.bOffset ?? 0) + z * sb;
          for (let k = 0; k < K; k++) {
            const av = a[ab + (opts.transA ? k * M + m : m * K + k)]!;
            const bv = b[bb + (opts.transB ? n * K + k : k * N + n)]!;
            acc += av * bv;
          }
        }
        out[(g * M + m) * N + n] = acc;
      }
    }
  }
  return out;
}

/** [M,K]×[K,N] or batched [B,M,K]×[B,K,N], as `matmul`. */
export function matmulRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[]): Float64Array {
  const [M, K] = aShape.slice(-2) as [number, number];
  const N = bShape[bShape.length - 1]!;
  return gemmRef({ a, b, M, N, K, batch: aShape.length === 3 ? aShape[0]! : 1 });
}

import { allocTensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { gemm } from './gemm.js';
export { gemm } from './gemm.js';
function matmulDims(a, b) {
    const fail = () => new Error(`matmul: expected [M,K]×[K,N] or [B,M,K]×[B,K,N], got [${a.shape}]×[${b.shape}]`);
    if (a.dtype !== 'f32' || b.dtype !== 'f32')
        throw new Error(`matmul: needs f32 tensors, got ${a.dtype} and ${b.dtype}`);
    if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3))
        throw fail();
    const batched = a.rank === 3;
    const [M, K] = a.shape.slice(-2);
    const [K2, N] = b.shape.slice(-2);
    if (K !== K2 || (batched && a.shape[0] !== b.shape[0]))
        throw fail();
    return { batch: batched ? a.shape[0] : 1, M, K, N };
}
/** [M,K]×[K,N] → [M,N], or batched [B,M,K]×[B,K,N] → [B,M,N]. */
export function matmul(a, b) {
    const { batch, M, K, N } = matmulDims(a, b);
    const lead = a.rank === 3 ? [batch] : [];
    const c = allocTensor([...lead, M, N]);
    gemm(c.runtime, { a, b, c, M, N, K, batch });
    return record(c, 'matmul', [a, b], [a, b], (g, [a, b], needs) => {
        let ga = null;
        let gb = null;
        if (needs[0]) {
            // dA = dC·Bᵀ: [M,N]·[N,K], B read transposed in place
            ga = allocTensor(a.shape);
            gemm(g.runtime, { a: g, b: b, c: ga, M, N: K, K: N, batch, transB: true });
        }
        if (needs[1]) {
            // dB = Aᵀ·dC: [K,M]·[M,N], A read transposed in place
            gb = allocTensor(b.shape);
            gemm(g.runtime, { a: a, b: g, c: gb, M: K, N, K: M, batch, transA: true });
        }
        return [ga, gb];
    });
}
//# sourceMappingURL=matmul.js.map
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { gemm } from './gemm.js';

export { gemm, defaultGemmTile, type GemmArgs, type GemmOptions } from './gemm.js';

interface MatmulDims { batch: number; M: number; K: number; N: number }

function matmulDims(a: Tensor, b: Tensor, transB: boolean): MatmulDims {
  const fail = () => new Error(`matmul: expected [M,K]×[K,N] or [B,M,K]×[B,K,N]${transB ? ' (b given as [N,K], transB)' : ''}, got [${a.shape}]×[${b.shape}]`);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error(`matmul: needs f32 tensors, got ${a.dtype} and ${b.dtype}`);
  if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3)) throw fail();
  const batched = a.rank === 3;
  const [M, K] = a.shape.slice(-2) as [number, number];
  const [K2, N] = (transB ? b.shape.slice(-2).reverse() : b.shape.slice(-2)) as [number, number];
  if (K !== K2 || (batched && a.shape[0] !== b.shape[0])) throw fail();
  return { batch: batched ? a.shape[0]! : 1, M, K, N };
}

/**
 * [M,K]×[K,N] → [M,N], or batched [B,M,K]×[B,K,N] → [B,M,N]. With `transB`, b is given as [N,K]
 * ([B,N,K]) and read transposed in place: a·bᵀ without materialising the transpose (Linear's x·Wᵀ).
 */
export function matmul(a: Tensor, b: Tensor, opts: { transB?: boolean } = {}): Tensor {
  const transB = opts.transB ?? false;
  const { batch, M, K, N } = matmulDims(a, b, transB);
  const lead = a.rank === 3 ? [batch] : [];
  const c = allocTensor([...lead, M, N]);
  gemm(c.runtime, { a, b, c, M, N, K, batch, transB });
  return record(c, 'matmul', [a, b], [a, b], (g, [a, b], needs) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      // dA = dC·Bᵀ: [M,N]·[N,K]. B is read transposed in place, or as stored when it was given as [N,K].
      ga = allocTensor(a!.shape);
      gemm(g.runtime, { a: g, b: b!, c: ga, M, N: K, K: N, batch, transB: !transB });
    }
    if (needs[1]) {
      gb = allocTensor(b!.shape);
      if (transB) {
        // dB (as [N,K]) = dCᵀ·A: [N,M]·[M,K], dC read transposed in place
        gemm(g.runtime, { a: g, b: a!, c: gb, M: N, N: K, K: M, batch, transA: true });
      } else {
        // dB = Aᵀ·dC: [K,M]·[M,N], A read transposed in place
        gemm(g.runtime, { a: a!, b: g, c: gb, M: K, N, K: M, batch, transA: true });
      }
    }
    return [ga, gb];
  });
}

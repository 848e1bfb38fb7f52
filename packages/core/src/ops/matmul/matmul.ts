import { allocTensor, sizeOf, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { broadcastShapes, sameShape } from '../shape.js';
import { broadcastTo, sumTo } from '../reduce/reduce.js';
import { gemm } from './gemm.js';

export { gemm, defaultGemmTile, type GemmArgs, type GemmOptions } from './gemm.js';

/**
 * One operand of a batched product as the GEMM reads it: its buffer and batch stride (0: one
 * matrix shared by every batch item). An operand whose batch axes broadcast only partly (e.g.
 * [2, 1, M, K] against [2, 3, …]) is expanded into a copy first.
 */
interface Operand { t: Tensor; stride: number; owned: boolean }

function operand(x: Tensor, rows: number, cols: number, batchShape: readonly number[]): Operand {
  const own = x.shape.slice(0, -2);
  const padded = [...Array<number>(batchShape.length - own.length).fill(1), ...own];
  if (sizeOf(own) === 1) return { t: x, stride: 0, owned: false };
  if (sameShape(padded, batchShape)) return { t: x, stride: rows * cols, owned: false };
  return { t: broadcastTo(x, [...padded, rows, cols], [...batchShape, rows, cols]), stride: rows * cols, owned: true };
}

/**
 * Matrix product with NumPy/PyTorch semantics: [..., M, K] × [..., K, N] → [..., M, N], the batch
 * axes broadcast (a 2-D operand is shared by every batch item without a copy); a 1-D `a` is a row
 * [K] and a 1-D `b` a column [K], their axis dropped from the result, as `torch.matmul`. With
 * `transB`, b is given as [..., N, K] and read transposed in place (Linear's x·Wᵀ).
 */
export function matmul(a: Tensor, b: Tensor, opts: { transB?: boolean } = {}): Tensor {
  const transB = opts.transB ?? false;
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error(`matmul: needs f32 tensors, got ${a.dtype} and ${b.dtype}`);
  if (a.rank === 0 || b.rank === 0) throw new Error(`matmul: needs tensors of rank 1 or more, got [${a.shape}]×[${b.shape}]`);
  const a2 = a.rank === 1 ? [1, a.shape[0]!] : a.shape;
  const b2 = b.rank === 1 ? (transB ? [1, b.shape[0]!] : [b.shape[0]!, 1]) : b.shape;
  const [M, K] = a2.slice(-2) as [number, number];
  const [K2, N] = (transB ? [b2.at(-1)!, b2.at(-2)!] : b2.slice(-2)) as [number, number];
  let batchShape: number[];
  try { batchShape = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2)); } catch { batchShape = [-1]; }
  if (K !== K2 || batchShape[0] === -1) {
    throw new Error(`matmul: expected [..., M, K]×[..., K, N]${transB ? ' (b given as [..., N, K], transB)' : ''} with broadcastable batch axes, got [${a.shape}]×[${b.shape}]`);
  }
  const batch = sizeOf(batchShape);
  const av = a.rank === 1 ? a.view(a2) : a;
  const bv = b.rank === 1 ? b.view(b2) : b;
  const A = operand(av, M, K, batchShape);
  const B = transB ? operand(bv, N, K, batchShape) : operand(bv, K, N, batchShape);
  const out = allocTensor([...batchShape, M, N]);
  gemm(out.runtime, { a: A.t, b: B.t, c: out, M, N, K, batch, transB, aBatchStride: A.stride, bBatchStride: B.stride });
  const resultShape = [...batchShape, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
  const c = sameShape(resultShape, out.shape) ? out : out.view(resultShape);
  if (c !== out) out.dispose();
  const aShape = [...a.shape];
  const bShape = [...b.shape];
  const saved = [A.t, B.t];
  const y = record(c, 'matmul', [a, b], saved, (g0, [At, Bt], needs) => {
    const g = g0.view([...batchShape, M, N]);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      // dA = dC·op(B)ᵀ, summed over the batch items a shared matrix served
      const shared = A.stride === 0;
      const full = allocTensor(shared ? [M, K] : [...batchShape, M, K]);
      gemm(g.runtime, { a: g, b: Bt!, c: full, M, N: K, K: N, batch, transB: !transB, bBatchStride: B.stride, ...(shared ? { sumItems: batch } : {}) });
      ga = reduceToShape(full, a2, aShape);
    }
    if (needs[1]) {
      const shared = B.stride === 0;
      const [rows, cols] = transB ? [N, K] : [K, N];
      const full = allocTensor(shared ? [rows, cols] : [...batchShape, rows, cols]);
      const sum = shared ? { sumItems: batch } : {};
      // dB = Aᵀ·dC, or (transB) dBᵀ = dCᵀ·A; both read their transposed operand in place
      if (transB) gemm(g.runtime, { a: g, b: At!, c: full, M: N, N: K, K: M, batch, transA: true, bBatchStride: A.stride, ...sum });
      else gemm(g.runtime, { a: At!, b: g, c: full, M: K, N, K: M, batch, transA: true, aBatchStride: A.stride, ...sum });
      gb = reduceToShape(full, b2, bShape);
    }
    g.dispose();
    return [ga, gb];
  });
  for (const o of [A, B]) if (o.owned) o.t.dispose();
  if (av !== a) av.dispose();
  if (bv !== b) bv.dispose();
  return y;
}

/** Sums a gradient over the batch axes its operand was broadcast along, then views it as `shape`. */
function reduceToShape(full: Tensor, padded: readonly number[], shape: readonly number[]): Tensor {
  const summed = sameShape(full.shape, padded) || sizeOf(full.shape) === sizeOf(padded) ? full : sumTo(full, padded);
  if (summed !== full) full.dispose();
  const v = summed.view(shape);
  summed.dispose();
  return v;
}

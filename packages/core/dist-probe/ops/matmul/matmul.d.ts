import { type Tensor } from '../../tensor.js';
export { gemm, type GemmArgs, type GemmOptions } from './gemm.js';
/** [M,K]×[K,N] → [M,N], or batched [B,M,K]×[B,K,N] → [B,M,N]. */
export declare function matmul(a: Tensor, b: Tensor): Tensor;

import type { Tensor } from '../tensor.js';
export type Reduction = 'mean' | 'sum' | 'none';
/**
 * Softmax cross-entropy of logits [N, C] against int32 class labels [N]. `mask` (f32 [N], 1 for a
 * real row, 0 for a padded one) leaves padded rows out; 'mean' (the default) averages over real rows.
 */
export declare function crossEntropyLoss(logits: Tensor, labels: Tensor, opts?: {
    mask?: Tensor;
    reduction?: Reduction;
}): Tensor;
/** Squared error (prediction − target)², averaged (default), summed or element-wise. */
export declare function mseLoss(prediction: Tensor, target: Tensor, opts?: {
    reduction?: Reduction;
}): Tensor;

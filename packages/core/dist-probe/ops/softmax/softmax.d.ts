import { type CrossEntropyReduction } from '@squeeze/kernels-wgsl';
import { type Tensor } from '../../tensor.js';
/** exp(x) / Σ exp(x) along `axis` (numerically stable). */
export declare function softmax(x: Tensor, axis?: number): Tensor;
/** x − log Σ exp(x) along `axis` (numerically stable). */
export declare function logSoftmax(x: Tensor, axis?: number): Tensor;
export interface SoftmaxCrossEntropyOptions {
    /** f32 [N]: 1 for a real row, 0 for a padded one (padded rows add nothing, whatever their label). */
    mask?: Tensor;
    /** 'mean' (default) averages over real rows, 'sum' adds them, 'none' returns the [N] row losses. */
    reduction?: CrossEntropyReduction;
}
/**
 * Cross-entropy of softmax(logits) against integer labels: per row log Σ exp(x) − x[label],
 * computed from the log-sum-exp so large logits never overflow. A real row's label must lie in
 * [0, C) (otherwise its loss is NaN). The gradient (softmax − onehot)·mask/count is one kernel.
 */
export declare function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts?: SoftmaxCrossEntropyOptions): Tensor;

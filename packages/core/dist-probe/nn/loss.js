import { square, sub } from '../ops/elementwise/elementwise.js';
import { mean, sum } from '../ops/reduce/reduce.js';
import { softmaxCrossEntropy } from '../ops/index.js';
/**
 * Softmax cross-entropy of logits [N, C] against int32 class labels [N]. `mask` (f32 [N], 1 for a
 * real row, 0 for a padded one) leaves padded rows out; 'mean' (the default) averages over real rows.
 */
export function crossEntropyLoss(logits, labels, opts = {}) {
    return softmaxCrossEntropy(logits, labels, opts);
}
/** Squared error (prediction − target)², averaged (default), summed or element-wise. */
export function mseLoss(prediction, target, opts = {}) {
    const squared = square(sub(prediction, target));
    const reduction = opts.reduction ?? 'mean';
    return reduction === 'none' ? squared : reduction === 'mean' ? mean(squared) : sum(squared);
}
//# sourceMappingURL=loss.js.map
import { type Tensor } from '../../tensor.js';
export interface BatchNormOptions {
    /** per-channel scale γ [C]; none = 1 */
    weight?: Tensor | null;
    /** per-channel shift β [C]; none = 0 */
    bias?: Tensor | null;
    /** [C], updated in place in training */
    runningMean: Tensor;
    /** [C], updated in place in training (with the unbiased batch variance) */
    runningVar: Tensor;
    /** training: normalise with the batch statistics (biased variance); eval: with the running ones */
    training: boolean;
    /** PyTorch meaning: running = (1 − momentum)·running + momentum·batch. Default 0.1. */
    momentum?: number;
    /** added to the variance. Default 1e-5. */
    eps?: number;
    /** channel axis 1 (NCHW, default) or last (NHWC); a rank-2 [N, C] input has it at 1 either way */
    dataFormat?: 'NCHW' | 'NHWC';
}
/**
 * Batch normalisation over the channel axis (1 for NCHW, last for NHWC, 1 for [N, C]). Training
 * normalises with the batch mean and biased variance and updates the running stats in place
 * (unbiased variance, PyTorch momentum); eval uses the running stats. Gradients flow to x,
 * weight and bias in both modes.
 */
export declare function batchNorm(x: Tensor, opts: BatchNormOptions): Tensor;
/**
 * relu(batchNorm(x, opts)) in one pass: the forward applies the ReLU in the normalisation kernel
 * and the backward folds the ReLU mask (recomputed from x) into the batch-norm gradient.
 */
export declare function batchNormRelu(x: Tensor, opts: BatchNormOptions): Tensor;

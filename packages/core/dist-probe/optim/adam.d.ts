import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamsInput } from './optimizer.js';
export interface AdamOptions {
    lr?: number;
    betas?: [number, number];
    eps?: number;
    weightDecay?: number;
}
/**
 * Adam with PyTorch's semantics (state `exp_avg`, `exp_avg_sq`; bias corrections from each
 * parameter's own step count). Weight decay is an L2 term added to the gradient; see AdamW.
 */
export declare class Adam extends Optimizer {
    lr: number;
    readonly betas: readonly [number, number];
    readonly eps: number;
    readonly weightDecay: number;
    /** AdamW: weight decay multiplies the parameter by (1 − lr·weightDecay) instead. */
    protected readonly decoupledWeightDecay: boolean;
    constructor(params: ParamsInput, opts?: AdamOptions);
    protected stateNames(): readonly string[];
    protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;
}
/** AdamW (PyTorch): Adam with decoupled weight decay, default weightDecay 0.01. */
export declare class AdamW extends Adam {
    protected readonly decoupledWeightDecay: boolean;
    constructor(params: ParamsInput, opts?: AdamOptions);
}

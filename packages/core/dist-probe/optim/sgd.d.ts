import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamsInput } from './optimizer.js';
export interface SgdOptions {
    lr?: number;
    momentum?: number;
    dampening?: number;
    nesterov?: boolean;
    /** L2 penalty added to the gradient (PyTorch's coupled weight decay). */
    weightDecay?: number;
}
/** Stochastic gradient descent with PyTorch's semantics (momentum buffer `momentum_buffer`). */
export declare class SGD extends Optimizer {
    lr: number;
    readonly momentum: number;
    readonly dampening: number;
    readonly nesterov: boolean;
    readonly weightDecay: number;
    constructor(params: ParamsInput, opts?: SgdOptions);
    protected stateNames(): readonly string[];
    protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;
}

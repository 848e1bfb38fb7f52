/**
 * Plain float64 transcriptions of PyTorch's optimizer algorithms (torch/optim/sgd.py, adam.py,
 * adamw.py; single-tensor path, amsgrad and maximize off) for testing the fused GPU kernels.
 * Each function updates one parameter in place for one step.
 */
export interface SgdRefState {
    momentumBuffer: Float64Array | null;
}
export declare function sgdStepRef(p: Float64Array, grad: ArrayLike<number>, state: SgdRefState, o: {
    lr: number;
    momentum: number;
    dampening: number;
    nesterov: boolean;
    weightDecay: number;
}): void;
export interface AdamRefState {
    step: number;
    expAvg: Float64Array;
    expAvgSq: Float64Array;
}
export declare function adamStepRef(p: Float64Array, grad: ArrayLike<number>, state: AdamRefState, o: {
    lr: number;
    betas: [number, number];
    eps: number;
    weightDecay: number;
    decoupled: boolean;
}): void;

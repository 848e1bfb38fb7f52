import { Tensor } from '../tensor.js';
/** Test helpers shared by every op's tests: compare against float64 references and check gradients. */
export interface Tolerance {
    atol: number;
    rtol: number;
}
/** Throws naming the first element where |a - e| > atol + rtol·|e|. */
export declare function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, label?: string): void;
/** Deterministic random test values in [lo, hi). */
export declare function randomValues(n: number, seed: number, lo?: number, hi?: number): Float64Array;
export interface GradCheckInput {
    shape: number[];
    values: Float64Array;
    grad?: boolean;
}
/**
 * Compares the GPU gradient of `gpu` with central finite differences of the float64 reference
 * `ref`, both contracted with the same random upstream gradient (so any output shape works).
 */
export declare function gradCheck(opts: {
    inputs: GradCheckInput[];
    gpu: (xs: Tensor[]) => Tensor;
    ref: (xs: Float64Array[]) => Float64Array;
    tol: Tolerance;
    eps?: number;
    seed?: number;
    label?: string;
}): Promise<void>;
/** Runs the GPU op under tidy and returns its values. */
export declare function gpuValues(fn: () => Tensor): Promise<Float32Array | Int32Array>;

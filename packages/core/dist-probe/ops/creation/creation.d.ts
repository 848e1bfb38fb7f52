import { Tensor, type DType, type Shape } from '../../tensor.js';
import { Random } from '../../random.js';
type Nested = number | Nested[];
/** A tensor from numbers, nested arrays or a typed array (with `shape`). */
export declare function tensor(values: Nested | ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor;
/** A tensor filled with `value`. */
export declare function full(shape: Shape, value: number, dtype?: DType): Tensor;
export declare const zeros: (shape: Shape) => Tensor;
export declare const ones: (shape: Shape) => Tensor;
export declare const zerosLike: (t: Tensor) => Tensor;
export declare const onesLike: (t: Tensor) => Tensor;
/** Normal(mean, std) values from a seeded generator (reproducible). */
export declare function randn(shape: Shape, opts?: {
    seed?: number;
    rng?: Random;
    mean?: number;
    std?: number;
}): Tensor;
/** Uniform [low, high) values from a seeded generator (reproducible). */
export declare function rand(shape: Shape, opts?: {
    seed?: number;
    rng?: Random;
    low?: number;
    high?: number;
}): Tensor;
export {};

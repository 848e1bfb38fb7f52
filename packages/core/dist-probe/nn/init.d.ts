import { type Shape, type Tensor } from '../tensor.js';
import { Random } from '../random.js';
/** Reseeds the generator layers use when no `rng` is given (like `torch.manual_seed`). */
export declare function manualSeed(seed: number): void;
export declare function defaultRandom(): Random;
/**
 * PyTorch's fans: for a weight [out, in, ...kernel], fanIn = in·|kernel| and fanOut = out·|kernel|;
 * a 1-D tensor has fanIn = fanOut = its size.
 */
export declare function fans(shape: Shape): {
    fanIn: number;
    fanOut: number;
};
/** Values uniform in [−bound, bound). */
export declare function uniformInit(shape: Shape, bound: number, rng?: Random): Tensor;
/** Glorot (Xavier) uniform: bound = gain·√(6 / (fanIn + fanOut)). */
export declare function glorotUniform(shape: Shape, opts?: {
    rng?: Random;
    gain?: number;
}): Tensor;
/**
 * Kaiming (He) uniform for a leaky-ReLU of negative slope `a` (0: ReLU):
 * bound = √(2 / (1 + a²)) · √(3 / fan), fan = fanIn (default) or fanOut.
 */
export declare function kaimingUniform(shape: Shape, opts?: {
    rng?: Random;
    a?: number;
    mode?: 'fanIn' | 'fanOut';
}): Tensor;
/**
 * How a Linear or Conv2d layer initialises its weight and bias:
 * - 'pytorch' (default): PyTorch's defaults, weight kaimingUniform with a = √5 (bound 1/√fanIn)
 *   and bias uniform in ±1/√fanIn;
 * - 'kaimingUniform' (ReLU gain) or 'glorotUniform': weight as named, bias zero.
 */
export type LayerInit = 'pytorch' | 'kaimingUniform' | 'glorotUniform';
export declare function initLayerWeight(shape: Shape, init: LayerInit, rng: Random): Tensor;
/** The bias of a layer whose weight has shape `weightShape`. */
export declare function initLayerBias(weightShape: Shape, init: LayerInit, rng: Random): Tensor;

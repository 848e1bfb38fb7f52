import type { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { type BatchNormOptions, type Conv2dOptions, type Pool2dOptions } from '../ops/index.js';
import { Module } from './module.js';
import { type LayerInit } from './init.js';
export interface LayerInitOptions {
    /** weight/bias initialisation (default 'pytorch': PyTorch's defaults). */
    init?: LayerInit;
    /** generator for the initial values (default: the one `manualSeed` seeds). */
    rng?: Random;
}
/** Runs the layers in order. */
export declare class Sequential extends Module {
    readonly layers: readonly Module[];
    constructor(...layers: Module[]);
    forward(x: Tensor): Tensor;
}
/** y = x·Wᵀ + b with weight [outFeatures, inFeatures] and bias [outFeatures] (PyTorch layout). */
export declare class Linear extends Module {
    readonly inFeatures: number;
    readonly outFeatures: number;
    readonly weight: Tensor;
    readonly bias: Tensor | null;
    constructor(inFeatures: number, outFeatures: number, opts?: LayerInitOptions & {
        bias?: boolean;
    });
    forward(x: Tensor): Tensor;
}
export type Conv2dLayerOptions = Omit<Conv2dOptions, 'bias'> & LayerInitOptions & {
    bias?: boolean;
};
/** 2-D convolution; weight [outChannels, inChannels, kh, kw] (PyTorch layout in every data format). */
export declare class Conv2d extends Module {
    readonly inChannels: number;
    readonly outChannels: number;
    readonly weight: Tensor;
    readonly bias: Tensor | null;
    private readonly convOptions;
    constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts?: Conv2dLayerOptions);
    forward(x: Tensor): Tensor;
}
export interface BatchNorm2dOptions {
    eps?: number;
    /** PyTorch meaning: running = (1 − momentum)·running + momentum·batch (default 0.1). */
    momentum?: number;
    /** learnable scale and shift (default true); `scale`/`center` choose each separately (Keras names). */
    affine?: boolean;
    scale?: boolean;
    center?: boolean;
    dataFormat?: BatchNormOptions['dataFormat'];
}
/**
 * Batch normalisation over the channel axis, named as PyTorch: parameters `weight` (scale) and
 * `bias` (shift), buffers `running_mean` and `running_var`. PyTorch's `num_batches_tracked` is not
 * kept (it only matters for momentum = None).
 */
export declare class BatchNorm2d extends Module {
    readonly numFeatures: number;
    readonly weight: Tensor | null;
    readonly bias: Tensor | null;
    readonly runningMean: Tensor;
    readonly runningVar: Tensor;
    readonly eps: number;
    readonly momentum: number;
    private readonly dataFormat;
    constructor(numFeatures: number, opts?: BatchNorm2dOptions);
    forward(x: Tensor): Tensor;
}
export declare class ReLU extends Module {
    forward(x: Tensor): Tensor;
}
export type Pool2dLayerOptions = Omit<Pool2dOptions, 'kernelSize'>;
/** Max pooling; the stride defaults to the kernel size (as PyTorch), padding to none. */
export declare class MaxPool2d extends Module {
    private readonly options;
    constructor(kernelSize: Pool2dOptions['kernelSize'], opts?: Pool2dLayerOptions);
    forward(x: Tensor): Tensor;
}
/** Average pooling (padding never counts); the stride defaults to the kernel size (as PyTorch). */
export declare class AvgPool2d extends Module {
    private readonly options;
    constructor(kernelSize: Pool2dOptions['kernelSize'], opts?: Pool2dLayerOptions);
    forward(x: Tensor): Tensor;
}
/** Zeroes each element with probability p in training (scaling the rest by 1/(1 − p)); identity in eval. */
export declare class Dropout extends Module {
    readonly p: number;
    private readonly rng;
    constructor(p?: number, opts?: {
        seed?: number;
    });
    forward(x: Tensor): Tensor;
}
/** Flattens the dimensions from `startDim` on (default 1: keeps the batch axis). */
export declare class Flatten extends Module {
    readonly startDim: number;
    constructor(startDim?: number);
    forward(x: Tensor): Tensor;
}

import { Random } from '../random.js';
import { ones, zeros } from '../ops/creation/creation.js';
import { add, relu } from '../ops/elementwise/elementwise.js';
import { avgPool2d, batchNorm, conv2d, dropout, flatten, matmul, maxPool2d, transpose, } from '../ops/index.js';
import { Module } from './module.js';
import { defaultRandom, initLayerBias, initLayerWeight } from './init.js';
/** Runs the layers in order. */
export class Sequential extends Module {
    layers;
    constructor(...layers) {
        super();
        this.layers = layers.map((m, i) => this.registerModule(String(i), m));
    }
    forward(x) {
        return this.layers.reduce((h, layer) => layer.forward(h), x);
    }
}
/** y = x·Wᵀ + b with weight [outFeatures, inFeatures] and bias [outFeatures] (PyTorch layout). */
export class Linear extends Module {
    inFeatures;
    outFeatures;
    weight;
    bias;
    constructor(inFeatures, outFeatures, opts = {}) {
        super();
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        const init = opts.init ?? 'pytorch';
        const rng = opts.rng ?? defaultRandom();
        this.weight = this.registerParameter('weight', initLayerWeight([outFeatures, inFeatures], init, rng));
        this.bias = (opts.bias ?? true) ? this.registerParameter('bias', initLayerBias(this.weight.shape, init, rng)) : null;
    }
    forward(x) {
        const y = matmul(x, transpose(this.weight));
        return this.bias ? add(y, this.bias) : y;
    }
}
/** 2-D convolution; weight [outChannels, inChannels, kh, kw] (PyTorch layout in every data format). */
export class Conv2d extends Module {
    inChannels;
    outChannels;
    weight;
    bias;
    convOptions;
    constructor(inChannels, outChannels, kernelSize, opts = {}) {
        super();
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        const { init = 'pytorch', rng = defaultRandom(), bias = true, ...convOptions } = opts;
        const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
        this.convOptions = { padding: 0, ...convOptions };
        this.weight = this.registerParameter('weight', initLayerWeight([outChannels, inChannels, kh, kw], init, rng));
        this.bias = bias ? this.registerParameter('bias', initLayerBias(this.weight.shape, init, rng)) : null;
    }
    forward(x) {
        return conv2d(x, this.weight, this.bias ? { ...this.convOptions, bias: this.bias } : this.convOptions);
    }
}
/**
 * Batch normalisation over the channel axis, named as PyTorch: parameters `weight` (scale) and
 * `bias` (shift), buffers `running_mean` and `running_var`. PyTorch's `num_batches_tracked` is not
 * kept (it only matters for momentum = None).
 */
export class BatchNorm2d extends Module {
    numFeatures;
    weight;
    bias;
    runningMean;
    runningVar;
    eps;
    momentum;
    dataFormat;
    constructor(numFeatures, opts = {}) {
        super();
        this.numFeatures = numFeatures;
        this.eps = opts.eps ?? 1e-5;
        this.momentum = opts.momentum ?? 0.1;
        this.dataFormat = opts.dataFormat;
        const affine = opts.affine ?? true;
        this.weight = (opts.scale ?? affine) ? this.registerParameter('weight', ones([numFeatures])) : null;
        this.bias = (opts.center ?? affine) ? this.registerParameter('bias', zeros([numFeatures])) : null;
        this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
        this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    }
    forward(x) {
        return batchNorm(x, {
            weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
            training: this.training, momentum: this.momentum, eps: this.eps, dataFormat: this.dataFormat,
        });
    }
}
export class ReLU extends Module {
    forward(x) { return relu(x); }
}
/** Max pooling; the stride defaults to the kernel size (as PyTorch), padding to none. */
export class MaxPool2d extends Module {
    options;
    constructor(kernelSize, opts = {}) {
        super();
        this.options = { kernelSize, ...opts };
    }
    forward(x) { return maxPool2d(x, this.options); }
}
/** Average pooling (padding never counts); the stride defaults to the kernel size (as PyTorch). */
export class AvgPool2d extends Module {
    options;
    constructor(kernelSize, opts = {}) {
        super();
        this.options = { kernelSize, ...opts };
    }
    forward(x) { return avgPool2d(x, this.options); }
}
/** Zeroes each element with probability p in training (scaling the rest by 1/(1 − p)); identity in eval. */
export class Dropout extends Module {
    p;
    rng;
    constructor(p = 0.5, opts = {}) {
        super();
        this.p = p;
        if (!(p >= 0 && p <= 1))
            throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
        // One generator per layer gives every forward pass a fresh, reproducible mask.
        this.rng = new Random(opts.seed ?? defaultRandom().nextU32());
    }
    forward(x) {
        return dropout(x, this.p, { training: this.training, seed: this.rng.nextU32() });
    }
}
/** Flattens the dimensions from `startDim` on (default 1: keeps the batch axis). */
export class Flatten extends Module {
    startDim;
    constructor(startDim = 1) {
        super();
        this.startDim = startDim;
    }
    forward(x) { return flatten(x, this.startDim); }
}
//# sourceMappingURL=layers.js.map
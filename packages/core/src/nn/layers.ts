import type { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { ones, zeros } from '../ops/creation/creation.js';
import { add, relu } from '../ops/elementwise/elementwise.js';
import {
  avgPool2d, batchNorm, conv2d, dropout, flatten, matmul, maxPool2d,
  type BatchNormOptions, type Conv2dOptions, type Pool2dOptions,
} from '../ops/index.js';
import { reshape } from '../ops/shape-ops/shape-ops.js';
import { Module } from './module.js';
import { defaultRandom, initLayerBias, initLayerWeight, type LayerInit } from './init.js';

export interface LayerInitOptions {
  /** weight/bias initialisation (default 'pytorch': PyTorch's defaults). */
  init?: LayerInit;
  /** generator for the initial values (default: the one `manualSeed` seeds). */
  rng?: Random;
}

/** Runs the layers in order. */
export class Sequential extends Module {
  readonly layers: readonly Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
}

/** y = x·Wᵀ + b with weight [outFeatures, inFeatures] and bias [outFeatures] (PyTorch layout). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LayerInitOptions & { bias?: boolean } = {}) {
    super();
    const init = opts.init ?? 'pytorch';
    const rng = opts.rng ?? defaultRandom();
    this.weight = this.registerParameter('weight', initLayerWeight([outFeatures, inFeatures], init, rng));
    this.bias = (opts.bias ?? true) ? this.registerParameter('bias', initLayerBias(this.weight.shape, init, rng)) : null;
  }

  /** x [*, inFeatures] → [*, outFeatures]. */
  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`${this.describe(`Linear ${this.inFeatures}→${this.outFeatures}`)}: input [${x.shape}], expected [*, ${this.inFeatures}]`);
    }
    const rows = x.rank === 2 ? x : reshape(x, [-1, this.inFeatures]);
    const y0 = matmul(rows, this.weight, { transB: true });
    const y = this.bias ? add(y0, this.bias) : y0;
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
  }
}

/** conv2d's options (groups and dilation among them) with a learnable bias or none. */
export type Conv2dLayerOptions = Omit<Conv2dOptions, 'bias'> & LayerInitOptions & { bias?: boolean };

/** 2-D convolution; weight [outChannels, inChannels/groups, kh, kw] (PyTorch layout in every data format). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly convOptions: Omit<Conv2dOptions, 'bias'>;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    const { init = 'pytorch', rng = defaultRandom(), bias = true, ...convOptions } = opts;
    const groups = convOptions.groups ?? 1;
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.convOptions = { padding: 0, ...convOptions };
    this.weight = this.registerParameter('weight', initLayerWeight([outChannels, inChannels / groups, kh, kw], init, rng));
    this.bias = bias ? this.registerParameter('bias', initLayerBias(this.weight.shape, init, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    const channelAxis = this.convOptions.dataFormat === 'NHWC' ? 3 : 1;
    if (x.rank !== 4 || x.shape[channelAxis] !== this.inChannels) {
      const expected = channelAxis === 1 ? `[N, ${this.inChannels}, H, W]` : `[N, H, W, ${this.inChannels}]`;
      throw new Error(`${this.describe(`Conv2d ${this.inChannels}→${this.outChannels}`)}: input [${x.shape}], expected ${expected}`);
    }
    const options = this.bias ? { ...this.convOptions, bias: this.bias } : this.convOptions;
    return conv2d(x, this.weight, options);
  }
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
 * kept (it only matters for momentum = None). BatchNorm2d takes [N, C, H, W] (or NHWC),
 * BatchNorm1d [N, C] or [N, C, L].
 */
abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  readonly momentum: number;
  private readonly dataFormat: BatchNormOptions['dataFormat'];

  constructor(readonly numFeatures: number, opts: BatchNorm2dOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.dataFormat = opts.dataFormat;
    const affine = opts.affine ?? true;
    this.weight = (opts.scale ?? affine) ? this.registerParameter('weight', ones([numFeatures])) : null;
    this.bias = (opts.center ?? affine) ? this.registerParameter('bias', zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
  }

  protected abstract readonly ranks: readonly number[];

  forward(x: Tensor): Tensor {
    const channelAxis = this.dataFormat === 'NHWC' || x.rank === 2 ? x.rank - 1 : 1;
    if (!this.ranks.includes(x.rank) || x.shape[channelAxis] !== this.numFeatures) {
      const name = `${this.constructor.name} ${this.numFeatures}`;
      throw new Error(`${this.describe(name)}: input [${x.shape}], expected rank ${this.ranks.join(' or ')} with ${this.numFeatures} channels on axis ${channelAxis}`);
    }
    return batchNorm(x, {
      weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training: this.training, momentum: this.momentum, eps: this.eps, dataFormat: this.dataFormat,
    });
  }
}

export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
}

export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

export type Pool2dLayerOptions = Omit<Pool2dOptions, 'kernelSize'>;

/** Max pooling; the stride defaults to the kernel size (as PyTorch), padding to none. */
export class MaxPool2d extends Module {
  private readonly options: Pool2dOptions;
  constructor(kernelSize: Pool2dOptions['kernelSize'], opts: Pool2dLayerOptions = {}) {
    super();
    this.options = { kernelSize, ...opts };
  }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.options); }
}

/** Average pooling (padding never counts); the stride defaults to the kernel size (as PyTorch). */
export class AvgPool2d extends Module {
  private readonly options: Pool2dOptions;
  constructor(kernelSize: Pool2dOptions['kernelSize'], opts: Pool2dLayerOptions = {}) {
    super();
    this.options = { kernelSize, ...opts };
  }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.options); }
}

/** Zeroes each element with probability p in training (scaling the rest by 1/(1 − p)); identity in eval. */
export class Dropout extends Module {
  private readonly rng: Random;
  constructor(readonly p = 0.5, opts: { seed?: number } = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    // One generator per layer gives every forward pass a fresh, reproducible mask.
    this.rng = new Random(opts.seed ?? defaultRandom().nextU32());
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, seed: this.rng.nextU32() });
  }
}

/** Flattens the dimensions from `startDim` on (default 1: keeps the batch axis). */
export class Flatten extends Module {
  constructor(readonly startDim = 1) { super(); }
  forward(x: Tensor): Tensor { return flatten(x, this.startDim); }
}

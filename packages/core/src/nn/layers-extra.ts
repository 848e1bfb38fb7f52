import type { Tensor } from '../tensor.js';
import { ones, zeros } from '../ops/creation/creation.js';
import { sigmoid, tanh } from '../ops/elementwise/elementwise.js';
import { gelu, silu, leakyRelu, type GeluOptions } from '../ops/elementwise/activations.js';
import { embedding } from '../ops/gather/gather.js';
import { layerNorm } from '../ops/normalization/layer-norm.js';
import { Module } from './module.js';
import { defaultRandom } from './init.js';
import type { Random } from '../random.js';
import { tensor } from '../ops/creation/creation.js';

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}

/** GELU; `approximate: 'tanh'` for the tanh form (default the exact erf form, as PyTorch). */
export class GELU extends Module {
  constructor(readonly options: GeluOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return gelu(x, this.options); }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor { return silu(x); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
}

export interface LayerNormOptions {
  eps?: number;
  /** learnable `weight` (ones) and `bias` (zeros) of the normalised shape (default true). */
  elementwiseAffine?: boolean;
  /** with elementwiseAffine: whether there is a bias (default true). */
  bias?: boolean;
}

/** Normalises over the last axes (`normalizedShape`), as PyTorch's `nn.LayerNorm`. */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones(this.normalizedShape)) : null;
    this.bias = affine && (opts.bias ?? true) ? this.registerParameter('bias', zeros(this.normalizedShape)) : null;
  }

  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    if (x.rank < k || x.shape.slice(-k).some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(`${this.describe(`LayerNorm [${this.normalizedShape}]`)}: input [${x.shape}], expected [*, ${this.normalizedShape.join(', ')}]`);
    }
    return layerNorm(x, this.normalizedShape, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }
}

export interface EmbeddingOptions {
  /** this row's output is zero and it receives no gradient (as PyTorch's `padding_idx`). */
  paddingIdx?: number;
  rng?: Random;
}

/** A lookup table [numEmbeddings, embeddingDim], initialised N(0, 1) as PyTorch; input int32 indices. */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | undefined;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    const rng = opts.rng ?? defaultRandom();
    const v = new Float32Array(numEmbeddings * embeddingDim);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    if (opts.paddingIdx !== undefined) {
      const p = opts.paddingIdx < 0 ? opts.paddingIdx + numEmbeddings : opts.paddingIdx;
      if (!Number.isInteger(p) || p < 0 || p >= numEmbeddings) throw new Error(`Embedding: paddingIdx ${opts.paddingIdx} is outside [0, ${numEmbeddings})`);
      v.fill(0, p * embeddingDim, (p + 1) * embeddingDim);
      this.paddingIdx = p;
    }
    this.weight = this.registerParameter('weight', tensor(v, [numEmbeddings, embeddingDim]));
  }

  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'i32') {
      throw new Error(`${this.describe(`Embedding ${this.numEmbeddings}×${this.embeddingDim}`)}: indices must be int32, got ${indices.dtype} [${indices.shape}]`);
    }
    return embedding(indices, this.weight, this.paddingIdx === undefined ? {} : { paddingIdx: this.paddingIdx });
  }
}

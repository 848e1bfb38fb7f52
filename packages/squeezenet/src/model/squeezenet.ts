import {
  Module, Random, Tensor, avgPool2d, batchNorm, batchNormRelu, batchNormReluConcat, batchNormReluConcatMaxPool, conv2d, conv2dBatchNormReluMaxPool, conv2dWithStatistics, glorotUniform, ones, reshape, zeros,
  type ChannelStatistics, type Pool2dOptions,
} from '@squeeze/core';
import type { DataFormat } from '@squeeze/core';

/**
 * TensorFlow's SqueezeNet CIFAR-10 sample network (`squeezenet_cifar`), with PyTorch-style names:
 * conv1 (96 2×2, SAME, no bias) + BN + ReLU → maxpool 2/2 → fire2..4 → maxpool → fire5..8 →
 * maxpool → fire9 → avgpool 4×4 → conv10 (1×1 → classes, bias) → logits [N, classes].
 */
export const ARCHITECTURE = 'squeezenet_cifar';

/** The shape of `n` 32×32 RGB images in `dataFormat` (n = -1: any batch, as a graph's placeholder). */
export function imageShape(dataFormat: DataFormat, n: number): number[] {
  return dataFormat === 'NCHW' ? [n, 3, 32, 32] : [n, 32, 32, 3];
}

/** The sample's batch norm: shift (beta) only, eps 1e-3, running-average decay 0.9 (momentum 0.1). */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.1;

/** fire(squeeze, expand) sizes of fire2 … fire9, as the sample. */
export const FIRE_SIZES: ReadonlyArray<readonly [number, number]> = [
  [16, 64], [16, 64], [32, 128], [32, 128], [48, 192], [48, 192], [64, 256], [64, 256],
];
/** Fire modules followed by a 2×2 / 2 max pool (pool4, pool8), as the sample. */
export const POOL_AFTER_FIRE: ReadonlySet<number> = new Set([4, 8]);

/** Batch norm with a learned shift only (no scale), as the sample's `scale=False`. */
export class ShiftBatchNorm extends Module {
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(channels: number, readonly dataFormat: DataFormat) {
    super();
    this.bias = this.registerParameter('bias', zeros([channels]));
    this.runningMean = this.registerBuffer('running_mean', zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', ones([channels]));
  }
  /** The batch-norm options of this layer in its current mode (for the fused ops). */
  options() {
    return {
      bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, training: this.training,
      momentum: BN_MOMENTUM, eps: BN_EPS, dataFormat: this.dataFormat,
    };
  }
  forward(x: Tensor): Tensor { return batchNorm(x, this.options()); }
}

/** conv (no bias, weight [out, in, kh, kw]) → batch norm (shift) → ReLU. */
export class ConvBnRelu extends Module {
  readonly weight: Tensor;
  readonly bn: ShiftBatchNorm;
  constructor(inC: number, outC: number, k: number, readonly dataFormat: DataFormat, rng: Random) {
    super();
    this.weight = this.registerParameter('weight', glorotUniform([outC, inC, k, k], { rng }));
    this.bn = this.registerModule('bn', new ShiftBatchNorm(outC, dataFormat));
  }
  forward(x: Tensor): Tensor {
    const { y, statistics } = this.convWithStatistics(x);
    const out = batchNormRelu(y, { ...this.bn.options(), statistics });
    statistics?.partials.dispose();
    return out;
  }
  /**
   * forward followed by a max-pool: the normalisation, ReLU and pool fused where they can be, and
   * the convolution's filter gradient taken straight from the pooled gradient where its patch is
   * small (core's conv2dBatchNormReluMaxPool).
   */
  forwardMaxPool(x: Tensor, pool: Pool2dOptions): Tensor {
    return conv2dBatchNormReluMaxPool(x, this.weight, this.convOptions(), this.bn.options(), pool);
  }
  /** The convolution alone (before batch norm and ReLU). */
  conv(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.convOptions());
  }
  /**
   * The convolution and, in training where its kernel can sum them, its output's batch-norm
   * statistics for `bn` (core's conv2dWithStatistics), to pass as the batch norm's `statistics`.
   */
  convWithStatistics(x: Tensor): { y: Tensor; statistics: ChannelStatistics | null } {
    if (!this.bn.training) return { y: this.conv(x), statistics: null };
    return conv2dWithStatistics(x, this.weight, this.convOptions(), this.bn.runningMean);
  }
  private convOptions() {
    return { padding: 'SAME' as const, dataFormat: this.dataFormat };
  }
}

/** fire(s, e): squeeze 1×1 to s, then expand 1×1 and expand 3×3 to e each, concatenated on channels. */
export class Fire extends Module {
  readonly squeeze: ConvBnRelu;
  readonly expand1x1: ConvBnRelu;
  readonly expand3x3: ConvBnRelu;
  constructor(inC: number, s: number, e: number, readonly dataFormat: DataFormat, rng: Random) {
    super();
    this.squeeze = this.registerModule('squeeze', new ConvBnRelu(inC, s, 1, dataFormat, rng));
    this.expand1x1 = this.registerModule('expand1x1', new ConvBnRelu(s, e, 1, dataFormat, rng));
    this.expand3x3 = this.registerModule('expand3x3', new ConvBnRelu(s, e, 3, dataFormat, rng));
  }
  get outChannels(): number { return 2 * this.expand1x1.weight.shape[0]!; }
  /** `pool`: the max-pool that follows the module, fused with its batch norms where they allow. */
  forward(x: Tensor, pool?: Pool2dOptions): Tensor {
    const rt = x.runtime;
    const s = rt.scope('squeeze', () => this.squeeze.forward(x));
    const e1 = rt.scope('expand1x1', () => this.expand1x1.convWithStatistics(s));
    const e3 = rt.scope('expand3x3', () => this.expand3x3.convWithStatistics(s));
    // Both branches' batch norm + ReLU write their channel slices of the output: no concat copies;
    // with a pool after the module, of the pooled output (the full-size one is never written).
    const bn = [{ ...this.expand1x1.bn.options(), statistics: e1.statistics }, { ...this.expand3x3.bn.options(), statistics: e3.statistics }];
    const scopes = ['expand1x1', 'expand3x3'];
    const out = pool ? batchNormReluConcatMaxPool([e1.y, e3.y], bn, pool, scopes) : batchNormReluConcat([e1.y, e3.y], bn, scopes);
    for (const t of [e1, e3]) t.statistics?.partials.dispose();
    return out;
  }
}

export class SqueezeNetCifar extends Module {
  readonly conv1: ConvBnRelu;
  readonly fires: Fire[] = [];
  readonly conv10: Conv10;

  /** Glorot-uniform conv weights from `seed`; zero biases and shifts; running mean 0, variance 1. */
  constructor(readonly opts: { dataFormat: DataFormat; seed: number; numClasses?: number }) {
    super();
    const rng = new Random(opts.seed);
    const df = opts.dataFormat;
    this.conv1 = this.registerModule('conv1', new ConvBnRelu(3, 96, 2, df, rng));
    let c = 96;
    FIRE_SIZES.forEach(([s, e], i) => {
      const fire = this.registerModule(`fire${i + 2}`, new Fire(c, s, e, df, rng));
      this.fires.push(fire);
      c = fire.outChannels;
    });
    this.conv10 = this.registerModule('conv10', new Conv10(c, opts.numClasses ?? 10, df, rng));
  }

  get dataFormat(): DataFormat { return this.opts.dataFormat; }

  /** x: [N, 3, 32, 32] (NCHW) or [N, 32, 32, 3] (NHWC), values in [0, 1] → logits [N, classes]. */
  forward(x: Tensor): Tensor {
    const df = this.opts.dataFormat;
    // Scopes name the traced kernels by layer (`fire3/expand3x3/...`).
    const layer = <T>(name: string, fn: () => T): T => x.runtime.scope(name, fn);
    const pool2x2: Pool2dOptions = { kernelSize: 2, stride: 2, padding: 'VALID', dataFormat: df };
    // conv1's 32×32×96 output is the largest activation: its normalisation, ReLU and pool run fused.
    let h = layer('conv1', () => this.conv1.forwardMaxPool(x, pool2x2));
    this.fires.forEach((fire, i) => {
      const k = i + 2;
      // The pool after fire4 and fire8 runs inside the module, fused with its batch norms.
      h = layer(`fire${k}`, () => fire.forward(h, POOL_AFTER_FIRE.has(k) ? pool2x2 : undefined));
    });
    h = layer('pool10', () => avgPool2d(h, { kernelSize: 4, stride: 4, padding: 'VALID', dataFormat: df }));
    const logits = layer('conv10', () => this.conv10.forward(h));
    return reshape(logits, [x.shape[0]!, -1]);
  }
}

/** The final 1×1 convolution to class scores, with bias, no batch norm, no ReLU. */
export class Conv10 extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(inC: number, classes: number, readonly dataFormat: DataFormat, rng: Random) {
    super();
    this.weight = this.registerParameter('weight', glorotUniform([classes, inC, 1, 1], { rng }));
    this.bias = this.registerParameter('bias', zeros([classes]));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, { padding: 'VALID', dataFormat: this.dataFormat, bias: this.bias });
  }
}

/** Forward multiply-adds per image at 32×32 (for reporting GFLOP/s). */
export const FORWARD_MACS_PER_IMAGE = 50_992_128;

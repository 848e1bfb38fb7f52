/**
 * A small residual CNN on Fashion-MNIST with the parts of a modern network: depthwise-separable
 * residual blocks (a 3×3 depthwise Conv2d with groups = channels, then a 1×1 Conv2d), BatchNorm2d,
 * GELU, global average pooling; AdamW with a linear warm-up then a cosine schedule, gradient
 * clipping, label smoothing; the trained weights saved as safetensors.
 *   node examples/dist/resnet.js [--steps N] [--eval-every N] [--save model.safetensors]
 */
import { writeFile } from 'node:fs/promises';
import {
  init, shutdown, tidy, tensor, Random, manualSeed, Module, Sequential, Conv2d, BatchNorm2d, GELU, MaxPool2d, Linear,
  AdamW, LinearLR, CosineAnnealingLR, SequentialLR, clipGradNorm, crossEntropyLoss, globalAvgPool, add, gelu, saveSafetensors,
  type Tensor,
} from '@squeeze/core';
import { gather } from './data.js';
import { fashionMnist } from './fashion.js';
import { accuracy, isMain } from './common.js';
import type { ExampleResult } from './mlp.js';

/** x + f(x), f = depthwise 3×3 → BN → GELU → pointwise 1×1 → BN; then GELU. */
export class SeparableBlock extends Module {
  readonly depthwise: Conv2d;
  readonly norm1: BatchNorm2d;
  readonly act = new GELU();
  readonly pointwise: Conv2d;
  readonly norm2: BatchNorm2d;

  constructor(channels: number) {
    super();
    this.depthwise = new Conv2d(channels, channels, 3, { padding: 1, groups: channels, bias: false });
    this.norm1 = new BatchNorm2d(channels);
    this.pointwise = new Conv2d(channels, channels, 1, { bias: false });
    this.norm2 = new BatchNorm2d(channels);
  }

  forward(x: Tensor): Tensor {
    const h = this.norm2.forward(this.pointwise.forward(this.act.forward(this.norm1.forward(this.depthwise.forward(x)))));
    return gelu(add(x, h));
  }
}

/** 1×28×28 → 32×28×28 → (block, pool) → 64×14×14 → (block, pool) → 128×7×7 → two blocks → mean → 10. */
export class ResidualCnn extends Module {
  readonly stem = new Sequential(new Conv2d(1, 32, 3, { padding: 1, bias: false }), new BatchNorm2d(32), new GELU());
  readonly stages = new Sequential(
    new SeparableBlock(32), new MaxPool2d(2),
    new Conv2d(32, 64, 1, { bias: false }), new BatchNorm2d(64), new GELU(), new SeparableBlock(64), new MaxPool2d(2),
    new Conv2d(64, 128, 1, { bias: false }), new BatchNorm2d(128), new GELU(), new SeparableBlock(128), new SeparableBlock(128),
  );
  readonly head = new Linear(128, 10);

  forward(x: Tensor): Tensor {
    return this.head.forward(globalAvgPool(this.stages.forward(this.stem.forward(x))));
  }
}

export interface ResnetOptions {
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** training and test examples read (default all: 60 000 and 10 000). */
  trainLimit?: number;
  testLimit?: number;
  seed?: number;
  /** log the accuracy on the first 2000 test examples every this many steps (progress only; the result is the whole test set's). */
  evalEvery?: number;
  /** write the trained state dict here as safetensors. */
  save?: string;
  log?: (line: string) => void;
}

export async function run(opts: ResnetOptions = {}): Promise<ExampleResult & { firstLoss: number }> {
  await init();
  const steps = opts.steps ?? 3000;
  const batchSize = opts.batchSize ?? 128;
  const seed = opts.seed ?? 1;
  const train = fashionMnist('train', { limit: opts.trainLimit });
  const test = fashionMnist('t10k', { limit: opts.testLimit });
  const rng = new Random(seed);
  const progressSet = { ...test, features: test.features.subarray(0, 2000 * 784), labels: test.labels.subarray(0, 2000) };
  const started = performance.now();

  manualSeed(seed);
  const model = new ResidualCnn();
  const optimizer = new AdamW(model.namedParameters(), { lr: opts.lr ?? 3e-3, weightDecay: 0.05 });
  const warmup = Math.max(1, Math.min(100, Math.floor(steps / 10)));
  const schedule = new SequentialLR(optimizer, [new LinearLR(optimizer, 0.1, 1, warmup), new CosineAnnealingLR(optimizer, steps - warmup)], [warmup]);

  let loss = NaN;
  let firstLoss = NaN;
  for (let step = 1; step <= steps; step++) {
    const batch = gather(train, Array.from({ length: batchSize }, () => rng.int(train.labels.length)));
    const lossTensor = tidy(() => {
      const l = crossEntropyLoss(model.forward(tensor(batch.features, [batchSize, 1, 28, 28])), batch.labels, { labelSmoothing: 0.1 });
      l.backward();
      clipGradNorm(model.parameters(), 2).dispose();
      optimizer.step();
      optimizer.zeroGrad();
      return l;
    });
    schedule.step();
    if (step === 1 || step % 100 === 0 || step === steps) {
      loss = await lossTensor.item();
      if (step === 1) firstLoss = loss;
      opts.log?.(`step ${step}: loss ${loss.toFixed(4)}, lr ${optimizer.lr.toExponential(2)}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    if (opts.evalEvery && step % opts.evalEvery === 0 && step < steps) {
      opts.log?.(`step ${step}: accuracy on ${progressSet.labels.length} test examples ${(100 * await accuracy(model, progressSet)).toFixed(2)}%`);
    }
    lossTensor.dispose();
  }
  const result = { accuracy: await accuracy(model, test), loss, firstLoss, steps };
  if (opts.save) await writeFile(opts.save, await saveSafetensors(model.stateDict(), { format: 'pt' }));
  optimizer.dispose();
  model.dispose();
  return result;
}

if (isMain(import.meta.url)) {
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const count = (name: string): number | undefined => {
    const v = flag(name);
    if (v === undefined) return undefined;
    if (!(Number.isInteger(Number(v)) && Number(v) > 0)) {
      console.error(`--${name}: expected a positive integer, got '${v}'`);
      process.exit(2);
    }
    return Number(v);
  };
  const steps = count('steps');
  const evalEvery = count('eval-every');
  const started = performance.now();
  const result = await run({ log: console.log, ...(steps ? { steps } : {}), ...(evalEvery ? { evalEvery } : {}), ...(flag('save') ? { save: flag('save') } : {}) });
  console.log(`test accuracy ${(100 * result.accuracy).toFixed(2)}% after ${result.steps} steps, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  shutdown();
}

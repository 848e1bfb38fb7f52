/**
 * A small convolutional network (Conv2d → BatchNorm2d → ReLU → MaxPool2d, twice, then Linear)
 * learns to tell four kinds of generated 16×16 images apart: horizontal stripes, vertical stripes,
 * squares and crosses, at random positions and sizes under pixel noise. Mini-batch Adam;
 * accuracy on 512 fresh images, in eval mode (batch norm uses its running statistics).
 *   node examples/dist/cnn.js
 */
import {
  init, shutdown, tidy, tensor, Random, manualSeed, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d,
  Flatten, Linear, Adam, crossEntropyLoss,
} from '@squeeze/core';
import { gather, shapeImages } from './data.js';
import { accuracy, isMain } from './common.js';
import type { ExampleResult } from './mlp.js';

const IMAGE_SIZE = 16;

export function makeCnn(classes: number): Sequential {
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2), // → 8×8×8
    new Conv2d(8, 16, 3, { padding: 1 }), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2), // → 16×4×4
    new Flatten(),
    new Linear(16 * 4 * 4, classes),
  );
}

export async function run(opts: { steps?: number; batchSize?: number; seed?: number; log?: (line: string) => void } = {}): Promise<ExampleResult> {
  await init();
  const steps = opts.steps ?? 150;
  const batchSize = opts.batchSize ?? 32;
  const seed = opts.seed ?? 1;
  const rng = new Random(seed);
  const train = shapeImages(2048, IMAGE_SIZE, rng);
  const test = shapeImages(512, IMAGE_SIZE, new Random(seed + 1000));

  manualSeed(seed);
  const model = makeCnn(train.classes);
  const optimizer = new Adam(model.namedParameters(), { lr: 3e-3 });

  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const indices = Array.from({ length: batchSize }, () => rng.int(train.labels.length));
    const batch = gather(train, indices);
    const lossTensor = tidy(() => {
      const x = tensor(batch.features, [batchSize, 1, IMAGE_SIZE, IMAGE_SIZE]);
      const l = crossEntropyLoss(model.forward(x), tensor(batch.labels, [batchSize], 'i32'));
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l;
    });
    if (step % 25 === 0 || step === steps) {
      loss = await lossTensor.item();
      opts.log?.(`step ${step}: loss ${loss.toFixed(4)}`);
    }
    lossTensor.dispose();
  }
  const result = { accuracy: await accuracy(model, test), loss, steps };
  optimizer.dispose();
  model.dispose();
  return result;
}

if (isMain(import.meta.url)) {
  const result = await run({ log: console.log });
  console.log(`test accuracy ${(100 * result.accuracy).toFixed(1)}%`);
  shutdown();
}

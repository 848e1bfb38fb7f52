/**
 * A multilayer perceptron learns the three-armed spiral: full-batch Adam on 600 generated points,
 * accuracy measured on 300 fresh points from the same distribution.
 *   node examples/dist/mlp.js
 */
import {
  init, shutdown, tidy, tensor, Random, manualSeed, Sequential, Linear, ReLU, Adam, crossEntropyLoss,
} from '@squeeze/core';
import { spiral } from './data.js';
import { accuracy, isMain } from './common.js';

export interface ExampleResult { accuracy: number; loss: number; steps: number }

export async function run(opts: { steps?: number; seed?: number; log?: (line: string) => void } = {}): Promise<ExampleResult> {
  await init();
  const steps = opts.steps ?? 300;
  const seed = opts.seed ?? 1;
  const train = spiral(200, 3, new Random(seed));
  const test = spiral(100, 3, new Random(seed + 1000));

  manualSeed(seed);
  const model = new Sequential(new Linear(2, 64), new ReLU(), new Linear(64, 64), new ReLU(), new Linear(64, 3));
  const optimizer = new Adam(model.namedParameters(), { lr: 0.01 });
  const x = tensor(train.features, [train.labels.length, 2]);
  const labels = tensor(train.labels, [train.labels.length], 'i32');

  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const lossTensor = tidy(() => {
      const l = crossEntropyLoss(model.forward(x), labels);
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l;
    });
    if (step % 50 === 0 || step === steps) {
      loss = await lossTensor.item();
      opts.log?.(`step ${step}: loss ${loss.toFixed(4)}`);
    }
    lossTensor.dispose();
  }
  const result = { accuracy: await accuracy(model, test), loss, steps };
  x.dispose();
  labels.dispose();
  optimizer.dispose();
  model.dispose();
  return result;
}

if (isMain(import.meta.url)) {
  const result = await run({ log: console.log });
  console.log(`test accuracy ${(100 * result.accuracy).toFixed(1)}%`);
  shutdown();
}

/**
 * The work the browser test runs twice, in headless Chromium (bundled with the packages' browser
 * entries) and in Node, on the same fixed inputs: the README's library snippet and training steps
 * of squeezenet_cifar. Only the public API of @squeeze/core and the squeezenet model.
 */
import { Adam, Random, conv2d, relu, softmaxCrossEntropy, sum, tensor, tidy } from '@squeeze/core';
import { SqueezeNetCifar } from '@squeeze/squeezenet';

export const SNIPPET_X_SHAPE = [2, 3, 8, 8] as const;
export const SNIPPET_W_SHAPE = [4, 3, 3, 3] as const;

/** The snippet's inputs: fixed values in [-1, 1) instead of its Math.random. */
export function snippetInputs(): { x: Float32Array; w: Float32Array } {
  const rng = new Random(7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  return { x: fill(2 * 3 * 8 * 8), w: fill(4 * 3 * 3 * 3) };
}

/** The README's snippet: loss = Σ relu(conv2d(x, w, SAME)), then d loss / d w. */
export async function readmeSnippet(): Promise<{ loss: number; grad: number[] }> {
  const { x: xv, w: wv } = snippetInputs();
  const x = tensor(xv, [...SNIPPET_X_SHAPE]);
  const w = tensor(wv, [...SNIPPET_W_SHAPE]).requireGrad();
  const loss = tidy(() => sum(relu(conv2d(x, w, { padding: 'SAME' }))));
  loss.backward();
  const result = { loss: await loss.item(), grad: [...(await w.grad!.data())] };
  for (const t of [x, w, loss]) t.dispose();
  return result;
}

export const TRAIN_BATCH = 8;
export const TRAIN_STEPS = 3;

/**
 * TRAIN_STEPS Adam steps of squeezenet_cifar (NCHW, seed 1) on one fixed batch of TRAIN_BATCH
 * images: each step's loss, and conv10's bias after the last (it moves every step).
 */
export async function squeezeNetSteps(): Promise<{ losses: number[]; conv10Bias: number[]; stepMs: number[] }> {
  const rng = new Random(3);
  const xs = Float32Array.from({ length: TRAIN_BATCH * 3 * 32 * 32 }, () => rng.uniform(0, 1));
  const ys = Int32Array.from({ length: TRAIN_BATCH }, () => rng.int(10));
  const model = new SqueezeNetCifar({ dataFormat: 'NCHW', seed: 1 });
  const optimizer = new Adam(model.namedParameters(), { lr: 1e-3 });
  model.train();
  const losses: number[] = [];
  const stepMs: number[] = [];
  for (let step = 0; step < TRAIN_STEPS; step++) {
    const t0 = performance.now();
    const loss = tidy(() => {
      const l = softmaxCrossEntropy(model.forward(tensor(xs, [TRAIN_BATCH, 3, 32, 32])), tensor(ys, [TRAIN_BATCH], 'i32'));
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l;
    });
    losses.push(await loss.item());
    stepMs.push(performance.now() - t0);
    loss.dispose();
  }
  const conv10Bias = [...(await model.conv10.bias.data())];
  optimizer.dispose();
  model.dispose();
  return { losses, conv10Bias, stepMs };
}

import {
  type Optimizer, type Tensor, argmax, getRuntime, noGrad, softmaxCrossEntropy, tensor, tidy, zeros, full,
} from '@squeeze/core';
import { testBatches, type TrainBatcher } from '../data/batches.js';
import type { Split } from '../data/split.js';
import { imageShape, type SqueezeNetCifar } from '../model/squeezenet.js';

/*
 * One training step, one evaluation pass and the pipeline warm-up: what `squeeze train` and the
 * web page both run. Nothing here touches files or Node, so the browser bundle imports it as is.
 */

/** Images per evaluation batch: inference only, so any size gives the same accuracy. */
export const EVAL_BATCH = 100;

/** The sample's Adam settings. */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Kernels a training step dispatches, by phase; `total` is their sum. */
export interface StepKernelCounts {
  /** the model's forward, the loss and the predicted classes. */
  forward: number;
  /** the loss's and the model's backward. */
  backward: number;
  /** the optimizer's update. */
  optimizer: number;
  total: number;
}

/** Kernels dispatched while `fn` records (the runtime's dispatch counter before and after). */
export function countKernels<T>(fn: () => T): [T, number] {
  const counters = getRuntime().counters;
  const before = counters.dispatches;
  const result = fn();
  return [result, counters.dispatches - before];
}

/**
 * Records one training step (forward, loss, backward, Adam update) without waiting on the GPU.
 * Returns the loss [1] and the batch's predicted classes [N] (int32), still on the GPU, and the
 * kernels each phase dispatched.
 */
export function encodeTrainStep(
  model: SqueezeNetCifar, optimizer: Optimizer, xs: Float32Array, ys: Int32Array, batchSize: number,
): [Tensor, Tensor, StepKernelCounts] {
  const { dataFormat } = model;
  model.train();
  const counts = { forward: 0, backward: 0, optimizer: 0, total: 0 };
  // Independent neighbouring kernels (a fire module's branches, a pass's data and filter gradients) share dispatches.
  const [loss, predictions] = getRuntime().fuseIndependent(() => tidy(() => {
    const x = tensor(xs, imageShape(dataFormat, batchSize));
    const y = tensor(ys, [batchSize], 'i32');
    let loss!: Tensor;
    let predictions!: Tensor;
    [, counts.forward] = countKernels(() => {
      const logits = model.forward(x);
      loss = logits.runtime.scope('loss', () => softmaxCrossEntropy(logits, y));
      predictions = noGrad(() => argmax(logits, 1));
    });
    [, counts.backward] = countKernels(() => loss.backward());
    [, counts.optimizer] = countKernels(() => {
      loss.runtime.scope('optimizer', () => optimizer.step());
      optimizer.zeroGrad();
    });
    return [loss, predictions] as [Tensor, Tensor];
  }));
  counts.total = counts.forward + counts.backward + counts.optimizer;
  return [loss, predictions, counts];
}

/** One training step on the next batch. Returns the batch's loss and accuracy. */
export async function trainStep(
  model: SqueezeNetCifar, optimizer: Optimizer, batcher: TrainBatcher, batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  const batch = batcher.next(model.dataFormat);
  const [lossT, predT] = encodeTrainStep(model, optimizer, batch.x, batch.y, batchSize);
  const [lossV, pred] = await Promise.all([lossT.data(), predT.data()]);
  lossT.dispose();
  predT.dispose();
  let correct = 0;
  for (let i = 0; i < batchSize; i++) if (pred[i] === batch.y[i]) correct++;
  return { loss: lossV[0]!, accuracy: correct / batchSize };
}

/**
 * Compiles, in parallel and before the first step, every pipeline a training step and an
 * evaluation pass use (nothing is computed), the optimizer's update kernels too when given (Adam's
 * took ~250 ms on lavapipe, compiled at its first use inside the first step).
 */
export async function warmModelPipelines(model: SqueezeNetCifar, batchSize: number, evalBatchSize: number, optimizer?: Optimizer): Promise<number> {
  const { dataFormat } = model;
  const wasTraining = model.training;
  // Two scopes: the training step's tensors go back to the pool before the evaluation's are made
  // (nothing runs), so the pool peaks at the larger of the two, not their sum.
  const rt = getRuntime();
  const n = await rt.warmPipelines(() => rt.fuseIndependent(() => {
    tidy(() => {
      model.train();
      const logits = model.forward(zeros(imageShape(dataFormat, batchSize)));
      softmaxCrossEntropy(logits, full([batchSize], 0, 'i32')).backward();
      optimizer?.recordForPipelineWarmup();
      noGrad(() => argmax(logits, 1));
      model.zeroGrad();
    });
    tidy(() => {
      model.eval();
      noGrad(() => argmax(model.forward(zeros(imageShape(dataFormat, evalBatchSize))), 1));
    });
  }));
  model.train(wasTraining);
  return n;
}

/** Records the predicted classes [N] (int32) of one evaluation batch, without waiting on the GPU. */
export function encodeEvalBatch(model: SqueezeNetCifar, xs: Float32Array, batchSize: number): Tensor {
  const { dataFormat } = model;
  return getRuntime().fuseIndependent(() => tidy(() => noGrad(() => {
    const x = tensor(xs, imageShape(dataFormat, batchSize));
    return argmax(model.forward(x), 1);
  })));
}

/** Accuracy over a whole split in evaluation mode (running batch-norm statistics). */
export async function evaluate(model: SqueezeNetCifar, split: Split, batchSize: number): Promise<number> {
  const { dataFormat } = model;
  model.eval();
  let correct = 0;
  let inFlight: { pred: Tensor; y: Int32Array; count: number } | null = null;
  const settle = async (f: { pred: Tensor; y: Int32Array; count: number }): Promise<void> => {
    const p = await f.pred.data();
    f.pred.dispose();
    for (let i = 0; i < f.count; i++) if (p[i] === f.y[i]) correct++;
  };
  for (const b of testBatches(split, batchSize, dataFormat)) {
    const pred = encodeEvalBatch(model, b.x, batchSize);
    // Encode the next batch before waiting on the previous one, so the GPU never idles on the CPU.
    if (inFlight) await settle(inFlight);
    inFlight = { pred, y: b.y, count: b.count };
  }
  if (inFlight) await settle(inFlight);
  model.train();
  return correct / split.count;
}


/** The median time of the last 20 steps: the progress figure of `squeeze train` and the web page. */
export function recentMsPerStep(stepMs: readonly number[]): number {
  const s = stepMs.slice(-20).sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

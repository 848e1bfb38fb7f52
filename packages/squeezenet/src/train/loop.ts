import type { Optimizer } from '@squeeze/core';
import type { TrainBatcher } from '../data/batches.js';
import type { Split } from '../data/split.js';
import type { SqueezeNetCifar } from '../model/squeezenet.js';
import { evaluate, recentMsPerStep, trainStep } from './step.js';

/*
 * The training loop of `squeeze train` and the web page: the sample's schedule around the shared
 * step. Where checkpoints go (files or IndexedDB) and what the lines feed (stdout and TensorBoard
 * events, or the page's charts) is the caller's, through LoopHooks. No files, no Node.
 */

export interface LoopSchedule {
  maxTrainSteps: number;
  batchSize: number;
  evalBatchSize: number;
  summaryInterval: number;
  checkpointInterval: number;
  validationInterval: number;
}

export interface LoopHooks {
  /** Test accuracy before the step `step` (every validationInterval steps). */
  evaluated(step: number, accuracy: number): void;
  /** The step's loss and batch accuracy (every summaryInterval steps). */
  trained(step: number, accuracy: number, loss: number): void;
  /** After every step: steps completed and the median of the recent step times. */
  progress?(stepsDone: number, msPerStep: number): void;
  /** Keep a checkpoint at `globalStep` (every checkpointInterval steps, at the last, and when stopped). */
  checkpoint(globalStep: number): Promise<void>;
  /** The error to stop with when the loss is not finite (nothing is saved). */
  diverged(loss: number, step: number): Error;
}

export interface LoopResult {
  globalStep: number;
  stopped: boolean;
  stepMs: number[];
  lastEvalAccuracy: number | null;
}

/**
 * Trains from `startStep` to `s.maxTrainSteps`: evaluates before the step every validationInterval
 * steps, reports every summaryInterval, checkpoints every checkpointInterval, at the last step and
 * when `signal` aborts (then it stops after that step).
 */
export async function trainLoop(
  model: SqueezeNetCifar, optimizer: Optimizer, batcher: TrainBatcher, test: Split, startStep: number,
  s: LoopSchedule, hooks: LoopHooks, signal?: AbortSignal,
): Promise<LoopResult> {
  const result: LoopResult = { globalStep: startStep, stopped: false, stepMs: [], lastEvalAccuracy: null };
  for (let step = startStep; step < s.maxTrainSteps; step++) {
    if (step % s.validationInterval === 0) {
      result.lastEvalAccuracy = await evaluate(model, test, s.evalBatchSize);
      hooks.evaluated(step, result.lastEvalAccuracy);
    }
    const t0 = performance.now();
    const { loss, accuracy } = await trainStep(model, optimizer, batcher, s.batchSize);
    if (!Number.isFinite(loss)) throw hooks.diverged(loss, step);
    result.stepMs.push(performance.now() - t0);
    result.globalStep = step + 1;
    if (step % s.summaryInterval === 0) hooks.trained(step, accuracy, loss);
    hooks.progress?.(step + 1, recentMsPerStep(result.stepMs));
    const last = step + 1 === s.maxTrainSteps;
    const stopping = signal?.aborted === true;
    if ((step + 1) % s.checkpointInterval === 0 || last || stopping) await hooks.checkpoint(step + 1);
    if (stopping && !last) { result.stopped = true; break; }
  }
  return result;
}

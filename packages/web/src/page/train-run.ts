import { Adam } from '@squeeze/core';
import {
  ADAM, ARCHITECTURE, EVAL_BATCH, SqueezeNetCifar, TrainBatcher, evalLine, modelState, optimizerState, restoreModel,
  restoreOptimizer, trainLine, trainLoop, warmModelPipelines, type CheckpointMeta, type Split,
} from '@squeeze/squeezenet';
import type { TrainFlags } from '../flags.js';
import type { HostTensors, StoredCheckpoint } from './checkpoint-store.js';

export interface PageDataset { name: string; classes: string[]; train: Split; test: Split }

export interface RunEvents {
  /** The sample's output lines, as `squeeze train` prints them. */
  log(line: string): void;
  /** Status lines (`squeeze train` prints them on stderr). */
  info(line: string): void;
  trained(step: number, accuracy: number, loss: number): void;
  evaluated(step: number, accuracy: number): void;
  progress(step: number, maxSteps: number, msPerStep: number): void;
  /** A checkpoint to keep (the page stores it in IndexedDB). */
  checkpoint(c: StoredCheckpoint): Promise<void>;
}

export interface RunResult { globalStep: number; stopped: boolean; alreadyDone: boolean; model: HostTensors | null }

export class TrainingDivergedError extends Error { override name = 'TrainingDivergedError'; }
export class ResumeError extends Error { override name = 'ResumeError'; }

/**
 * Trains as `squeeze train` does, with its model, optimizer, batching and loop (`trainLoop`),
 * keeping checkpoints through `events` instead of files. Resumes from `resume` when given.
 */
export async function runTraining(f: TrainFlags, data: PageDataset, resume: StoredCheckpoint | null, signal: AbortSignal, events: RunEvents): Promise<RunResult> {
  const startStep = resume?.meta.globalStep ?? 0;
  if (resume && startStep >= f.max_train_steps) {
    events.info(`Training already complete: the checkpoint in this browser is at step ${startStep} (max_train_steps ${f.max_train_steps}).`);
    return { globalStep: startStep, stopped: false, alreadyDone: true, model: resume.model };
  }
  const model = new SqueezeNetCifar({ dataFormat: f.data_format, seed: f.seed, numClasses: data.classes.length });
  const optimizer = new Adam(model.namedParameters(), { lr: f.learning_rate, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
  const batcherOpts = { batchSize: f.batch_size, seed: f.seed, flip: true };
  let batcher: TrainBatcher;
  try {
    if (resume) {
      if (resume.meta.architecture !== ARCHITECTURE || resume.meta.dataset !== data.name) {
        throw new Error(`it is a ${resume.meta.architecture} checkpoint of ${resume.meta.dataset}, this run trains ${ARCHITECTURE} on ${data.name}`);
      }
      restoreModel(model, { path: 'browser', meta: resume.meta, model: resume.model, optimizer: resume.optimizer });
      restoreOptimizer(optimizer, { path: 'browser', meta: resume.meta, model: resume.model, optimizer: resume.optimizer });
      batcher = TrainBatcher.restore(data.train, batcherOpts, resume.meta.dataOrder);
      events.info(`Resuming from the checkpoint in this browser at step ${startStep}.`);
    } else {
      batcher = new TrainBatcher(data.train, batcherOpts);
    }
  } catch (e) {
    model.dispose();
    optimizer.dispose();
    throw new ResumeError(`cannot resume from the checkpoint in this browser (${(e as Error).message}); click Train to start over`);
  }

  const result: RunResult = { globalStep: startStep, stopped: false, alreadyDone: false, model: null };
  try {
    const t0 = performance.now();
    const compiled = await warmModelPipelines(model, f.batch_size, EVAL_BATCH, optimizer);
    events.info(`Compiled ${compiled} GPU pipelines in parallel (${((performance.now() - t0) / 1000).toFixed(1)} s).`);
    const save = async (globalStep: number): Promise<void> => {
      const meta: CheckpointMeta = {
        architecture: ARCHITECTURE, globalStep, dataFormat: f.data_format, seed: f.seed, dataOrder: batcher.state(),
        dataset: data.name, classes: data.classes, batchSize: f.batch_size, learningRate: f.learning_rate,
        optimizer: { name: 'adam', step: optimizer.stepCount, ...ADAM },
      };
      const c = { meta, model: await modelState(model), optimizer: await optimizerState(optimizer) };
      result.model = c.model;
      await events.checkpoint(c);
    };
    const loop = await trainLoop(model, optimizer, batcher, data.test, startStep, {
      maxTrainSteps: f.max_train_steps, batchSize: f.batch_size, evalBatchSize: EVAL_BATCH,
      summaryInterval: f.summary_interval, checkpointInterval: f.checkpoint_interval, validationInterval: f.validation_interval,
    }, {
      evaluated: (step, accuracy) => { events.log(evalLine(step, accuracy)); events.evaluated(step, accuracy); },
      trained: (step, accuracy, loss) => { events.log(trainLine(step, accuracy)); events.trained(step, accuracy, loss); },
      progress: (done, msPerStep) => events.progress(done, f.max_train_steps, msPerStep),
      checkpoint: save,
      diverged: (loss, step) => new TrainingDivergedError(`loss is ${loss} at step ${step}; stopping without saving (the last checkpoint stays). Try a lower learning_rate.`),
    }, signal);
    result.globalStep = loop.globalStep;
    result.stopped = loop.stopped;
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return result;
}


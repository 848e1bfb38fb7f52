import * as path from 'node:path';
import { Adam, GpuError, hasRuntime, init } from '@squeeze/core';
import { loadDataset, TrainBatcher, type LoadedDataset } from '../data/index.js';
import { EventWriter } from '../formats/index.js';
import { ARCHITECTURE, SqueezeNetCifar } from '../model/squeezenet.js';
import type { DataFormat } from '@squeeze/core';
import {
  CheckpointError, checkCompatible, findLatestCheckpoint, findNonFinite, writeCheckpoint, type Checkpoint, type CheckpointMeta,
} from '../checkpoint/checkpoint.js';
import { evalLine, trainLine } from './format.js';
import { squeezeNetGraphDef } from '../model/graph.js';
import { withLock } from '../reliability/lock.js';
import { MODEL_DIR_LAYOUT } from './layout.js';
import { modelState, optimizerState, restoreModel, restoreOptimizer } from './state.js';
import { ADAM, EVAL_BATCH, warmModelPipelines } from './step.js';
import { trainLoop } from './loop.js';

export { ADAM, EVAL_BATCH, countKernels, encodeEvalBatch, encodeTrainStep, evaluate, trainStep, warmModelPipelines, type StepKernelCounts } from './step.js';
export { trainLoop, type LoopHooks, type LoopResult, type LoopSchedule } from './loop.js';

export interface TrainOptions {
  modelDir: string;
  dataDir: string;
  dataset?: string;
  batchSize: number;
  dataFormat: DataFormat;
  maxTrainSteps: number;
  learningRate: number;
  summaryInterval: number;
  checkpointInterval: number;
  validationInterval: number;
  keepLastNCheckpoints: number;
  seed: number;
  adapter?: string;
  /** images per evaluation batch (inference only; does not change results). */
  evalBatchSize?: number;
  /** the sample's output lines */
  log?: (line: string) => void;
  /** warnings and status (stderr) */
  info?: (line: string) => void;
  /** a live progress line (terminal only) */
  progress?: (p: { step: number; maxSteps: number; msPerStep: number }) => void;
  /** Resume a checkpoint trained on another dataset (name or content) instead of refusing it. */
  allowDatasetChange?: boolean;
  /** abort to stop after the current step, with a checkpoint (Ctrl-C) */
  signal?: AbortSignal;
}

export interface TrainResult {
  startStep: number;
  /** global step reached (steps completed) */
  globalStep: number;
  alreadyDone: boolean;
  stopped: boolean;
  lastEvalAccuracy: number | null;
  stepMs: number[];
  checkpoint: string | null;
}

export class TrainingDivergedError extends Error { override name = 'TrainingDivergedError'; }

/**
 * Trains SqueezeNet as the TensorFlow sample does, resuming from the newest checkpoint. Holds the
 * model folder's lock throughout: a second writer stops with a LockError before touching anything.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const info = o.info ?? ((l: string) => console.error(l));
  return withLock(o.modelDir, 'model', { role: '--model_dir', info }, () => trainLocked(o, info));
}

async function trainLocked(o: TrainOptions, info: (line: string) => void): Promise<TrainResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const data = loadDataset(o.dataDir, o.dataset);
  const latest = findLatestCheckpoint(o.modelDir, info);
  const startStep = latest?.meta.globalStep ?? 0;
  if (startStep >= o.maxTrainSteps) {
    info(`Training already complete: ${latest!.path} is at step ${startStep} (--max_train_steps ${o.maxTrainSteps}).`);
    return { startStep, globalStep: startStep, alreadyDone: true, stopped: false, lastEvalAccuracy: null, stepMs: [], checkpoint: latest!.path };
  }
  if (latest) checkSameDataset(latest, data, o, info);
  if (!hasRuntime()) await init({ adapter: o.adapter });

  const model = new SqueezeNetCifar({ dataFormat: o.dataFormat, seed: o.seed, numClasses: data.classes.length });
  const optimizer = new Adam(model.namedParameters(), { lr: o.learningRate, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
  let batcher: TrainBatcher;
  const batcherOpts = { batchSize: o.batchSize, seed: o.seed, flip: true };
  const shapes = shapesOf(model);
  if (latest) {
    try {
      checkCompatible(latest, shapes, ARCHITECTURE);
      restoreModel(model, latest);
      restoreOptimizer(optimizer, latest);
      batcher = TrainBatcher.restore(data.train, batcherOpts, latest.meta.dataOrder);
    } catch (e) {
      model.dispose();
      optimizer.dispose();
      // The state-dict loaders and the batcher reject what does not fit (extra or missing optimizer
      // state, a data position beyond this dataset) with plain errors; name the file instead.
      if (!(e instanceof Error) || e instanceof GpuError || e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${latest.path}: cannot resume from it (${e.message}); use another --model_dir or run 'squeeze clean'`, { cause: e });
    }
    info(`Resuming from ${latest.path} at step ${startStep}${latest.meta.dataFormat !== o.dataFormat ? ` (saved with ${latest.meta.dataFormat}, continuing with ${o.dataFormat})` : ''}.`);
  } else {
    batcher = new TrainBatcher(data.train, batcherOpts);
  }

  const compiled = await warmModelPipelines(model, o.batchSize, o.evalBatchSize ?? EVAL_BATCH, optimizer);
  info(`Compiled ${compiled} GPU pipelines in parallel.`);

  const trainEvents = new EventWriter(o.modelDir);
  const evalEvents = new EventWriter(path.join(o.modelDir, MODEL_DIR_LAYOUT.evalDir));
  trainEvents.addGraph(squeezeNetGraphDef(shapes, data.classes.length, o.dataFormat));
  /** Every checkpoint written or resumed from holds finite values only, so this names a good one. */
  const stoppingLine = (): string => {
    const good = result.checkpoint ?? latest?.path;
    return `stopping without saving${good ? ` (the last good checkpoint stays: ${good})` : ''}. Try a lower --learning_rate.`;
  };
  const result: TrainResult = { startStep, globalStep: startStep, alreadyDone: false, stopped: false, lastEvalAccuracy: null, stepMs: [], checkpoint: null };
  const saveCheckpoint = async (globalStep: number): Promise<void> => {
    const meta: CheckpointMeta = {
      architecture: ARCHITECTURE, globalStep, dataFormat: o.dataFormat, seed: o.seed, dataOrder: batcher.state(),
      dataset: data.name, datasetFingerprint: data.fingerprint, trainCount: data.train.count, classes: data.classes, batchSize: o.batchSize, learningRate: o.learningRate,
      optimizer: { name: 'adam', step: optimizer.stepCount, ...ADAM },
    };
    const state = { model: await modelState(model), optimizer: await optimizerState(optimizer) };
    // A non-finite weight would poison every later checkpoint and the export: stop, as for a NaN loss.
    const bad = findNonFinite([state.model, state.optimizer]);
    if (bad) throw new TrainingDivergedError(`weights are not finite after step ${globalStep - 1} ('${bad.name}' holds ${bad.value}); ${stoppingLine()}`);
    result.checkpoint = writeCheckpoint(o.modelDir, { meta, ...state }, o.keepLastNCheckpoints);
  };

  try {
    const loop = await trainLoop(model, optimizer, batcher, data.test, startStep, {
      maxTrainSteps: o.maxTrainSteps, batchSize: o.batchSize, evalBatchSize: o.evalBatchSize ?? EVAL_BATCH,
      summaryInterval: o.summaryInterval, checkpointInterval: o.checkpointInterval, validationInterval: o.validationInterval,
    }, {
      evaluated: (step, acc) => { log(evalLine(step, acc)); evalEvents.addScalar('accuracy', acc, step); },
      trained: (step, accuracy, loss) => {
        log(trainLine(step, accuracy));
        trainEvents.addScalar('accuracy', accuracy, step);
        trainEvents.addScalar('loss', loss, step);
      },
      progress: (done, msPerStep) => o.progress?.({ step: done - 1, maxSteps: o.maxTrainSteps, msPerStep }),
      checkpoint: saveCheckpoint,
      diverged: (loss, step) => new TrainingDivergedError(`loss is ${loss} at step ${step}; ${stoppingLine()}`),
    }, o.signal);
    Object.assign(result, loop);
  } finally {
    trainEvents.close();
    evalEvents.close();
    model.dispose();
    optimizer.dispose();
  }
  return result;
}

/**
 * Refuses to resume a checkpoint trained on another dataset — another name, or the same name with
 * other contents (a different --limit, another source) — unless allowDatasetChange is set.
 */
function checkSameDataset(c: Checkpoint, data: LoadedDataset, o: TrainOptions, info: (line: string) => void): void {
  const fingerprintDiffers = c.meta.datasetFingerprint !== undefined && c.meta.datasetFingerprint !== data.fingerprint;
  if (c.meta.dataset === data.name && !fingerprintDiffers) return;
  const was = `${c.meta.dataset}${c.meta.trainCount !== undefined ? ` (${c.meta.trainCount} training images${c.meta.datasetFingerprint ? `, fingerprint ${c.meta.datasetFingerprint}` : ''})` : ''}`;
  const now = `${data.name} (${data.train.count} training images, fingerprint ${data.fingerprint})`;
  if (!o.allowDatasetChange) {
    throw new CheckpointError(`${c.path}: trained on ${was}, but ${o.dataDir} holds ${now}; pass --allow_dataset_change to go on training it on this data, or use another --model_dir`);
  }
  info(`${c.path} was trained on ${was}; continuing on ${now} (--allow_dataset_change).`);
}

function shapesOf(model: SqueezeNetCifar): Record<string, readonly number[]> {
  const out: Record<string, readonly number[]> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = t.shape;
  return out;
}


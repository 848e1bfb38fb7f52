import * as path from 'node:path';
import { Adam, GpuError, hasRuntime, init } from '@squeeze/core';
import { loadDataset, TrainBatcher } from '../data/index.js';
import { EventWriter } from '../formats/index.js';
import { ARCHITECTURE, SqueezeNetCifar, type DataFormat } from '../model/squeezenet.js';
import {
  CheckpointError, checkCompatible, findLatestCheckpoint, writeCheckpoint, type CheckpointMeta,
} from '../checkpoint/checkpoint.js';
import { evalLine, trainLine } from './format.js';
import { squeezeNetGraphDef } from '../model/graph.js';
import { modelState, optimizerState, restoreModel, restoreOptimizer } from './state.js';
import { ADAM, EVAL_BATCH, evaluate, trainStep, warmModelPipelines } from './step.js';

export { ADAM, EVAL_BATCH, encodeTrainStep, evaluate, trainStep, warmModelPipelines } from './step.js';

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

/** Trains SqueezeNet as the TensorFlow sample does, resuming from the newest checkpoint. */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const info = o.info ?? ((l: string) => console.error(l));
  const data = loadDataset(o.dataDir, o.dataset);
  const latest = findLatestCheckpoint(o.modelDir, info);
  const startStep = latest?.meta.globalStep ?? 0;
  if (startStep >= o.maxTrainSteps) {
    info(`Training already complete: ${latest!.path} is at step ${startStep} (--max_train_steps ${o.maxTrainSteps}).`);
    return { startStep, globalStep: startStep, alreadyDone: true, stopped: false, lastEvalAccuracy: null, stepMs: [], checkpoint: latest!.path };
  }
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

  const compiled = await warmModelPipelines(model, o.batchSize, o.evalBatchSize ?? EVAL_BATCH, o.dataFormat, optimizer);
  info(`Compiled ${compiled} GPU pipelines in parallel.`);

  const trainEvents = new EventWriter(o.modelDir);
  const evalEvents = new EventWriter(path.join(o.modelDir, 'eval'));
  trainEvents.addGraph(squeezeNetGraphDef(shapes, data.classes.length, o.dataFormat));
  const result: TrainResult = { startStep, globalStep: startStep, alreadyDone: false, stopped: false, lastEvalAccuracy: null, stepMs: [], checkpoint: null };
  const saveCheckpoint = async (globalStep: number): Promise<void> => {
    const meta: CheckpointMeta = {
      architecture: ARCHITECTURE, globalStep, dataFormat: o.dataFormat, seed: o.seed, dataOrder: batcher.state(),
      dataset: data.name, classes: data.classes, batchSize: o.batchSize, learningRate: o.learningRate,
      optimizer: { name: 'adam', step: optimizer.stepCount, ...ADAM },
    };
    const state = { model: await modelState(model), optimizer: await optimizerState(optimizer) };
    result.checkpoint = writeCheckpoint(o.modelDir, { meta, ...state }, o.keepLastNCheckpoints);
  };

  try {
    for (let step = startStep; step < o.maxTrainSteps; step++) {
      if (step % o.validationInterval === 0) {
        const acc = await evaluate(model, data.test, o.evalBatchSize ?? EVAL_BATCH, o.dataFormat);
        result.lastEvalAccuracy = acc;
        log(evalLine(step, acc));
        evalEvents.addScalar('accuracy', acc, step);
      }
      const t0 = performance.now();
      const { loss, accuracy } = await trainStep(model, optimizer, batcher, o.batchSize, o.dataFormat);
      if (!Number.isFinite(loss)) {
        throw new TrainingDivergedError(`loss is ${loss} at step ${step}; stopping without saving${result.checkpoint ?? latest ? ` (the last good checkpoint stays: ${result.checkpoint ?? latest!.path})` : ''}. Try a lower --learning_rate.`);
      }
      const ms = performance.now() - t0;
      result.stepMs.push(ms);
      result.globalStep = step + 1;
      if (step % o.summaryInterval === 0) {
        log(trainLine(step, accuracy));
        trainEvents.addScalar('accuracy', accuracy, step);
        trainEvents.addScalar('loss', loss, step);
      }
      o.progress?.({ step, maxSteps: o.maxTrainSteps, msPerStep: median(result.stepMs.slice(-20)) });
      const last = step + 1 === o.maxTrainSteps;
      const stopping = o.signal?.aborted === true;
      if ((step + 1) % o.checkpointInterval === 0 || last || stopping) await saveCheckpoint(step + 1);
      if (stopping && !last) { result.stopped = true; break; }
    }
  } finally {
    trainEvents.close();
    evalEvents.close();
    model.dispose();
    optimizer.dispose();
  }
  return result;
}

function shapesOf(model: SqueezeNetCifar): Record<string, readonly number[]> {
  const out: Record<string, readonly number[]> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = t.shape;
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

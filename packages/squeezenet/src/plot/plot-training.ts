import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEvents, type LineSeries } from '../formats/index.js';
import { PlotError } from './errors.js';
import { writeChart } from './write-chart.js';

const EVENT_FILE = /^events\.out\.tfevents\./;
/** Training writes its evaluation events to this subfolder, as TensorFlow's Estimator does. */
const EVAL_SUBDIR = 'eval';

/** Scalars by tag, each a step → value map. */
type ScalarLog = Map<string, Map<number, number>>;

function eventFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && EVENT_FILE.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
}

/**
 * The scalars of event `files`, by tag. Files are read in name order (their names start with
 * the creation time), so where a resumed run logged a step again, the later value wins. A
 * half-written last record (training still running) is skipped.
 */
function readScalars(files: string[]): ScalarLog {
  const log: ScalarLog = new Map();
  for (const file of files) {
    for (const event of readEvents(file, { allowTruncatedTail: true })) {
      for (const { tag, value } of event.scalars ?? []) {
        let byStep = log.get(tag);
        if (!byStep) log.set(tag, (byStep = new Map()));
        byStep.set(event.step, value);
      }
    }
  }
  return log;
}

function series(name: string, log: ScalarLog, tag: string): LineSeries[] {
  const byStep = log.get(tag);
  if (!byStep || byStep.size === 0) return [];
  return [{ name, points: [...byStep].sort((a, b) => a[0] - b[0]) }];
}

const withinUnitRange = (lines: LineSeries[]): boolean => lines.every((s) => s.points.every(([, y]) => y >= 0 && y <= 1));

export interface TrainingCurves {
  /** 'train' (from modelDir) and 'eval' (from modelDir/eval) series of tag `accuracy`, where logged. */
  accuracy: LineSeries[];
  /** The same for tag `loss`. */
  loss: LineSeries[];
}

/**
 * The accuracy and loss curves of a training run, from its TensorBoard event files. Throws
 * PlotError when `modelDir` and `modelDir/eval` hold no event files.
 */
export function trainingCurves(modelDir: string): TrainingCurves {
  const trainFiles = eventFiles(modelDir);
  const evalFiles = eventFiles(join(modelDir, EVAL_SUBDIR));
  if (trainFiles.length === 0 && evalFiles.length === 0) {
    throw new PlotError(
      `${modelDir}: no TensorBoard event files (events.out.tfevents.*) here or in ${join(modelDir, EVAL_SUBDIR)}; train first with 'squeeze train --model_dir ${modelDir}'.`,
    );
  }
  const train = readScalars(trainFiles);
  const evaluation = readScalars(evalFiles);
  return {
    accuracy: [...series('train', train, 'accuracy'), ...series('eval', evaluation, 'accuracy')],
    loss: [...series('train', train, 'loss'), ...series('eval', evaluation, 'loss')],
  };
}

/**
 * Plots a training run: `accuracy.png/.svg` and `loss.png/.svg` in `outDir`, each with its train
 * and eval curves (see trainingCurves). A chart with no data is left out. Returns the paths
 * written. Throws PlotError when there are no event files or they hold neither tag.
 */
export function plotTraining(modelDir: string, outDir: string): string[] {
  const { accuracy, loss } = trainingCurves(modelDir);
  if (accuracy.length === 0 && loss.length === 0) {
    throw new PlotError(`${modelDir}: the event files hold no 'accuracy' or 'loss' scalars to plot.`);
  }
  const written: string[] = [];
  if (accuracy.length > 0) {
    written.push(
      ...writeChart(outDir, 'accuracy', {
        title: 'Accuracy',
        xLabel: 'step',
        yLabel: 'accuracy',
        series: accuracy,
        ...(withinUnitRange(accuracy) ? { yRange: [0, 1] as [number, number] } : {}),
      }),
    );
  }
  if (loss.length > 0) {
    written.push(...writeChart(outDir, 'loss', { title: 'Loss', xLabel: 'step', yLabel: 'loss', series: loss }));
  }
  return written;
}

import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What training, tracing, plotting and exporting leave in a model directory. The model
 * directory defaults to the data directory, so everything else there (cifar10/,
 * fashion-mnist/, *_images/, labels.txt, downloaded archives) is the dataset and is kept:
 * this list names what to remove, never what to keep.
 */
const MODEL_SUBDIRS = ['checkpoints', 'models', 'plots'];
const EVAL_SUBDIR = 'eval';
const EVENT_FILE = /^events\.out\.tfevents\./;
const TRACE_FILE = /^cifar_trace_.*\.json$/;

function matchingFiles(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
}

/**
 * Removes checkpoints (`checkpoints/`), exported models (`models/`), plots (`plots/`), TensorBoard
 * event files (`events.out.tfevents.*` in modelDir and modelDir/eval, and eval/ once empty) and
 * Chrome traces (`cifar_trace_*.json`) from `modelDir`. Returns the paths removed (folders end in '/').
 */
export function cleanModelDir(modelDir: string): string[] {
  const removed: string[] = [];
  for (const name of MODEL_SUBDIRS) {
    const dir = join(modelDir, name);
    if (existsSync(dir) && statSync(dir).isDirectory()) {
      rmSync(dir, { recursive: true });
      removed.push(`${dir}/`);
    }
  }
  const evalDir = join(modelDir, EVAL_SUBDIR);
  const files = [
    ...matchingFiles(modelDir, EVENT_FILE),
    ...matchingFiles(evalDir, EVENT_FILE),
    ...matchingFiles(modelDir, TRACE_FILE),
  ];
  for (const file of files) {
    rmSync(file);
    removed.push(file);
  }
  if (existsSync(evalDir) && statSync(evalDir).isDirectory() && readdirSync(evalDir).length === 0) {
    rmdirSync(evalDir);
    removed.push(`${evalDir}/`);
  }
  return removed;
}

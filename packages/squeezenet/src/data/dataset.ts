import { DataError } from './errors.js';
import { DATASET_NAMES, DATASET_TITLES, datasetPaths, isDatasetName, isPrepared, readMeta, setupCommand } from './layout.js';
import { readDataFile } from './datafile.js';
import type { Split } from './split.js';

export type { Split } from './split.js';
export {
  testBatches, TrainBatcher, type Layout, type TestBatch, type TrainBatch, type TrainBatcherOptions, type TrainBatcherState,
} from './batches.js';

export interface LoadedDataset {
  name: string;
  classes: string[];
  train: Split;
  test: Split;
}

/**
 * Loads a dataset prepared by setupData. Without `dataset`, loads the one that is prepared
 * (CIFAR-10 when both are). Missing, truncated or corrupt files raise a DataError naming the
 * file and the setup command that rebuilds it.
 */
export function loadDataset(dataDir: string, dataset?: string): LoadedDataset {
  let name: (typeof DATASET_NAMES)[number];
  if (dataset === undefined) {
    const prepared = DATASET_NAMES.find((candidate) => isPrepared(dataDir, candidate));
    if (prepared === undefined) {
      throw new DataError(`${dataDir}: no prepared dataset (no ${DATASET_NAMES.map((n) => `${n}/meta.json`).join(' or ')}); run \`squeeze setup\` first.`);
    }
    name = prepared;
  } else if (isDatasetName(dataset)) {
    name = dataset;
  } else {
    throw new DataError(`Unknown dataset "${dataset}"; choose ${DATASET_NAMES.join(' or ')}.`);
  }
  const meta = readMeta(dataDir, name);
  const paths = datasetPaths(dataDir, name);
  const advice = `run \`${setupCommand(name)}\``;
  const load = (path: string, expectedCount: number): Split => {
    const split = readDataFile(path, advice);
    if (split.count !== expectedCount) {
      throw new DataError(`${path}: holds ${split.count} images but meta.json says ${expectedCount}; ${advice}.`);
    }
    const badLabel = split.labels.findIndex((label) => label >= meta.classes.length);
    if (badLabel >= 0) {
      throw new DataError(`${path}: image ${badLabel} has label ${split.labels[badLabel]} but ${DATASET_TITLES[name]} has ${meta.classes.length} classes; ${advice}.`);
    }
    return split;
  };
  return { name, classes: meta.classes, train: load(paths.train, meta.trainCount), test: load(paths.test, meta.testCount) };
}

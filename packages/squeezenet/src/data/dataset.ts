import { DataError } from './errors.js';
import { DATASET_NAMES, DATASET_TITLES, datasetPaths, isDatasetName, isPrepared, readMeta, setupCommand } from './layout.js';
import { createHash } from 'node:crypto';
import { readDataFile, readDataFileHeader } from './datafile.js';
import type { Split } from './split.js';
import type { DataFormat } from '@squeeze/core';

export type { Split } from './split.js';
export {
  testBatches, TrainBatcher, type TestBatch, type TrainBatch, type TrainBatcherOptions, type TrainBatcherState,
} from './batches.js';

export interface LoadedDataset {
  name: string;
  /**
   * Identifies the prepared contents: a hash of both split files' headers, which hold each
   * file's image count and the CRC-32 of its images and labels (checked as the files are read).
   */
  fingerprint: string;
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
  const train = load(paths.train, meta.trainCount);
  if (train.count === 0) throw new DataError(`${paths.train}: holds no images, so there is nothing to train on; ${advice} with a source that has images.`);
  const test = load(paths.test, meta.testCount);
  return { name, fingerprint: fingerprintOf(name, [paths.train, paths.test]), classes: meta.classes, train, test };
}

function fingerprintOf(name: string, files: string[]): string {
  const hash = createHash('sha256').update(name);
  for (const file of files) hash.update(readDataFileHeader(file));
  return hash.digest('hex').slice(0, 16);
}

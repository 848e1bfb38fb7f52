import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';

export type DatasetName = 'cifar10' | 'fashion-mnist';
export const DATASET_NAMES: readonly DatasetName[] = ['cifar10', 'fashion-mnist'];

export const DATASET_TITLES: Record<DatasetName, string> = {
  cifar10: 'CIFAR-10',
  'fashion-mnist': 'Fashion-MNIST',
};

/** Contents of `<dataDir>/<dataset>/meta.json`; it is written last, so its presence marks a complete set. */
export interface DatasetMeta {
  dataset: DatasetName;
  classes: string[];
  trainCount: number;
  testCount: number;
  /** Where the data came from: archive, folder or URL. */
  source: string;
  /** Present when only the first `limit` images of each split were prepared. */
  limit?: number;
}

/** Where one prepared dataset lives under the data directory. */
export function datasetPaths(dataDir: string, dataset: DatasetName) {
  const dir = join(dataDir, dataset);
  return {
    dir,
    train: join(dir, 'train.bin'),
    test: join(dir, 'test.bin'),
    meta: join(dir, 'meta.json'),
    labels: join(dir, 'labels.txt'),
    imagesDir: join(dataDir, `${dataset}_images`),
  };
}

/** The command that (re)builds a dataset, for error messages. */
export function setupCommand(dataset: DatasetName): string {
  return dataset === 'cifar10' ? 'squeeze setup' : `squeeze setup --dataset ${dataset}`;
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** Lines "index:class name", one per class, as in labels.txt. */
export function labelsText(classes: readonly string[]): string {
  return classes.map((name, index) => `${index}:${name}\n`).join('');
}

export function isPrepared(dataDir: string, dataset: DatasetName): boolean {
  return existsSync(datasetPaths(dataDir, dataset).meta);
}

export function readMeta(dataDir: string, dataset: DatasetName): DatasetMeta {
  const path = datasetPaths(dataDir, dataset).meta;
  const advice = `run \`${setupCommand(dataset)}\``;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError(`${path}: missing or unreadable, so ${DATASET_TITLES[dataset]} is not prepared; ${advice}.`, {
      cause: error,
    });
  }
  let meta: Partial<DatasetMeta>;
  try {
    meta = JSON.parse(text) as Partial<DatasetMeta>;
  } catch (error) {
    throw new DataError(`${path}: not valid JSON (corrupt); ${advice}.`, { cause: error });
  }
  const valid =
    meta.dataset === dataset &&
    Array.isArray(meta.classes) &&
    meta.classes.length > 0 &&
    meta.classes.every((name) => typeof name === 'string') &&
    Number.isInteger(meta.trainCount) &&
    Number.isInteger(meta.testCount) &&
    typeof meta.source === 'string';
  if (!valid) throw new DataError(`${path}: missing or wrong fields (corrupt); ${advice}.`);
  return meta as DatasetMeta;
}

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tar from 'tar';
import {
  CIFAR10_ARCHIVE_MD5,
  CIFAR10_ARCHIVE_NAME,
  CIFAR10_ARCHIVE_SIZE,
  CIFAR10_CLASSES,
  CIFAR10_FOLDER,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  CIFAR10_URL,
  concatSplits,
  readCifarBatchFile,
} from './cifar.js';
import { readDataFile, writeDataFile } from './datafile.js';
import { downloadCifar10, md5OfFile } from './download.js';
import { DataError } from './errors.js';
import { FASHION_MNIST_CLASSES, locateFashionMnist, readFashionMnistSplit } from './fashion.js';
import { writeFileAtomic } from './fsutil.js';
import {
  DATASET_TITLES,
  datasetPaths,
  isDatasetName,
  labelsText,
  readMeta,
  setupCommand,
  type DatasetMeta,
  type DatasetName,
} from './layout.js';
import { chwToInterleaved, encodePngRgb } from './png.js';
import { formatBytes, startProgress, type ProgressOptions } from './progress.js';
import { IMAGE_BYTES, IMAGE_HEIGHT, IMAGE_WIDTH, takeFirst, type Split } from './split.js';

export interface SetupOptions {
  /** Default 'cifar10'. */
  dataset?: DatasetName;
  dataDir: string;
  /**
   * CIFAR-10: the .tar.gz archive, or the extracted cifar-10-batches-bin folder or its parent.
   * Fashion-MNIST: the folder with the four idx files (.gz or raw); default: the Debian package's folder.
   */
  from?: string;
  /** Whether CIFAR-10 may be downloaded when `from` is not given (default true). */
  download?: boolean;
  log?: (line: string) => void;
  /** Progress bars on stderr when it is a terminal (default true); false, or no terminal: occasional `log` lines instead. */
  progress?: boolean;
  /** Download address override (mirrors, tests). */
  url?: string;
  /** Prepare only the first `limit` images of each split (quick experiments, tests). */
  limit?: number;
}

export interface SetupResult {
  dataset: DatasetName;
  /** `<dataDir>/<dataset>`, holding train.bin, test.bin, labels.txt and meta.json. */
  dir: string;
  trainCount: number;
  testCount: number;
  alreadyPresent: boolean;
}

const CLASSES: Record<DatasetName, readonly string[]> = {
  cifar10: CIFAR10_CLASSES,
  'fashion-mnist': FASHION_MNIST_CLASSES,
};

interface SourceData {
  train: Split;
  test: Split;
  source: string;
}

/**
 * Prepares a dataset under `dataDir`: compact train/test files for training, a PNG tree for
 * looking at (and predicting on) individual images, and labels.txt. Safe to run again: a
 * complete, verified set is left alone, and an interrupted run leaves no meta.json, so the
 * next run starts over.
 */
export async function setupData(options: SetupOptions): Promise<SetupResult> {
  const dataset = options.dataset ?? 'cifar10';
  if (!isDatasetName(dataset)) {
    throw new DataError(`Unknown dataset "${String(dataset)}"; choose cifar10 or fashion-mnist.`);
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
    throw new RangeError(`setupData: limit must be a positive integer, got ${options.limit}`);
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const progress: ProgressOptions = { progress: options.progress, log };
  const { dataDir } = options;
  const paths = datasetPaths(dataDir, dataset);
  const classes = CLASSES[dataset];
  const title = DATASET_TITLES[dataset];
  mkdirSync(dataDir, { recursive: true });

  const existing = verifiedExistingSet(dataDir, dataset, options.limit, log);
  if (existing !== undefined) {
    log(`${title} already prepared in ${paths.dir}`);
    writeIfChanged(join(dataDir, 'labels.txt'), labelsText(classes));
    return { dataset, dir: paths.dir, trainCount: existing.trainCount, testCount: existing.testCount, alreadyPresent: true };
  }

  // A meta.json from an earlier set must not vouch for files this run is about to replace.
  rmSync(paths.meta, { force: true });
  const data =
    dataset === 'cifar10' ? await readCifarSource(options, progress) : readFashionSource(options, progress);
  const train = takeFirst(data.train, options.limit);
  const test = takeFirst(data.test, options.limit);
  mkdirSync(paths.dir, { recursive: true });

  writeDataFile(paths.train, train);
  writeDataFile(paths.test, test);
  writeFileAtomic(paths.labels, labelsText(classes));
  writePngTree(paths.imagesDir, classes, { train, test }, progress);
  const meta: DatasetMeta = {
    dataset,
    classes: [...classes],
    trainCount: train.count,
    testCount: test.count,
    source: data.source,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  };
  writeFileAtomic(paths.meta, `${JSON.stringify(meta, null, 2)}\n`);
  writeIfChanged(join(dataDir, 'labels.txt'), labelsText(classes));
  log(`${title} prepared in ${paths.dir}: ${train.count} training and ${test.count} test images`);
  return { dataset, dir: paths.dir, trainCount: train.count, testCount: test.count, alreadyPresent: false };
}

/** The meta of a complete set whose files all verify and that was prepared with the same limit, else undefined. */
function verifiedExistingSet(
  dataDir: string,
  dataset: DatasetName,
  limit: number | undefined,
  log: (line: string) => void,
): DatasetMeta | undefined {
  const paths = datasetPaths(dataDir, dataset);
  if (!existsSync(paths.meta)) return undefined;
  try {
    const meta = readMeta(dataDir, dataset);
    if (meta.limit !== limit) {
      log(`Existing ${DATASET_TITLES[dataset]} set was prepared with limit ${meta.limit ?? 'none'}; preparing it again with ${limit ?? 'none'}.`);
      return undefined;
    }
    const advice = `run \`${setupCommand(dataset)}\``;
    const train = readDataFile(paths.train, advice);
    const test = readDataFile(paths.test, advice);
    if (train.count !== meta.trainCount || test.count !== meta.testCount || !existsSync(paths.imagesDir)) {
      throw new DataError(`${paths.dir}: files do not match meta.json`);
    }
    return meta;
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    log(`Existing ${DATASET_TITLES[dataset]} set is incomplete or damaged (${error.message}); preparing it again.`);
    return undefined;
  }
}

function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileAtomic(path, text);
}

async function readCifarSource(options: SetupOptions, progress: ProgressOptions): Promise<SourceData> {
  if (options.from !== undefined) {
    if (!existsSync(options.from)) {
      throw new DataError(
        `${options.from}: does not exist; pass --from the ${CIFAR10_ARCHIVE_NAME} archive or the extracted ${CIFAR10_FOLDER} folder.`,
      );
    }
    if (statSync(options.from).isDirectory()) {
      const folder = findBatchesFolder(options.from);
      if (folder === undefined) {
        throw new DataError(
          `${options.from}: holds neither ${CIFAR10_TRAIN_FILES[0]} nor a ${CIFAR10_FOLDER} folder; pass --from the archive or the extracted folder.`,
        );
      }
      return { ...readCifarBatches(folder, folder, progress), source: folder };
    }
    return { ...(await readCifarArchive(options.from, options.dataDir, progress)), source: options.from };
  }
  if (options.download === false) {
    throw new DataError(
      `${options.dataDir}: no CIFAR-10 source given and downloading is off; pass --from the ${CIFAR10_ARCHIVE_NAME} archive or the extracted ${CIFAR10_FOLDER} folder.`,
    );
  }
  const archive = join(options.dataDir, CIFAR10_ARCHIVE_NAME);
  let source = archive;
  if (existsSync(archive) && (await md5OfFile(archive)) === CIFAR10_ARCHIVE_MD5) {
    progress.log(`Using the archive downloaded earlier: ${archive}`);
  } else {
    source = options.url ?? CIFAR10_URL;
    await downloadCifar10({ destination: archive, url: source, progress: progress.progress, log: progress.log });
  }
  return { ...(await readCifarArchive(archive, options.dataDir, progress)), source };
}

/** `dir` itself when it holds the batch files, or its cifar-10-batches-bin subfolder when that does. */
function findBatchesFolder(dir: string): string | undefined {
  return [dir, join(dir, CIFAR10_FOLDER)].find((candidate) => existsSync(join(candidate, CIFAR10_TRAIN_FILES[0]!)));
}

async function readCifarArchive(archive: string, dataDir: string, progress: ProgressOptions): Promise<{ train: Split; test: Split }> {
  const archiveBytes = statSync(archive).size;
  // Only the genuine archive has a known checksum; other archives (fixtures, repacks) are checked record by record.
  if (archive.endsWith(CIFAR10_ARCHIVE_NAME) && archiveBytes === CIFAR10_ARCHIVE_SIZE) {
    const md5 = await md5OfFile(archive);
    if (md5 !== CIFAR10_ARCHIVE_MD5) {
      throw new DataError(`${archive}: MD5 ${md5} differs from the official ${CIFAR10_ARCHIVE_MD5} (corrupt); re-download it.`);
    }
  }
  const extractDir = join(dataDir, '.cifar10-extract');
  rmSync(extractDir, { recursive: true, force: true });
  mkdirSync(extractDir, { recursive: true });
  try {
    extractTarGz(archive, extractDir, archiveBytes, progress);
    const folder = findBatchesFolder(extractDir);
    if (folder === undefined) {
      throw new DataError(`${archive}: contains no ${CIFAR10_FOLDER}/${CIFAR10_TRAIN_FILES[0]}; this is not the CIFAR-10 binary archive — re-download it.`);
    }
    const displayPrefix = folder === extractDir ? archive : `${archive}:${CIFAR10_FOLDER}`;
    return readCifarBatches(folder, displayPrefix, progress);
  } finally {
    rmSync(extractDir, { recursive: true, force: true });
  }
}

/** Records in each CIFAR-10 batch file. */
const CIFAR10_RECORDS_PER_FILE = 10_000;

/**
 * Extracts synchronously: when this returns or throws, nothing is still being written. (tar's
 * streaming extraction goes on writing entries after reporting its first error, racing the removal
 * of the extraction folder, and some damaged entries — a path with a NUL byte — made it throw from
 * a callback, crashing the process.) Only the batch files are written, and none larger than a
 * CIFAR-10 batch: an archive with huge entries (a decompression bomb) cannot fill the disk.
 */
function extractTarGz(archive: string, into: string, archiveBytes: number, progress: ProgressOptions): void {
  const bar = startProgress('Extract', archiveBytes, progress, formatBytes);
  const wanted = new Set<string>([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE]);
  const maxEntryBytes = CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES;
  let oversized: string | null = null;
  try {
    // strict turns tar's warnings about damaged entries into errors instead of skipping them silently.
    tar.x({
      file: archive, cwd: into, strict: true, sync: true,
      filter: (path, entry) => {
        if (!wanted.has(basename(path))) return false;
        const size = 'size' in entry ? entry.size : 0;
        if (size > maxEntryBytes) {
          oversized ??= `${path} (${size} bytes)`;
          return false;
        }
        return true;
      },
    });
    bar.increment(archiveBytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`${archive}: cannot be extracted (${reason}); the archive is damaged or not a .tar.gz — re-download it.`, { cause: error });
  } finally {
    bar.stop();
  }
  if (oversized !== null) {
    throw new DataError(`${archive}: entry ${oversized} is larger than a CIFAR-10 batch (${maxEntryBytes} bytes); this is not the CIFAR-10 binary archive — re-download it.`);
  }
}

function readCifarBatches(folder: string, displayPrefix: string, progress: ProgressOptions): { train: Split; test: Split } {
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const bar = startProgress('Convert', files.length, progress);
  try {
    const batches = files.map((file) => {
      const batch = readCifarBatchFile(join(folder, file), `${displayPrefix}/${file}`);
      bar.increment();
      return batch;
    });
    return { train: concatSplits(batches.slice(0, CIFAR10_TRAIN_FILES.length)), test: batches[batches.length - 1]! };
  } finally {
    bar.stop();
  }
}

function readFashionSource(options: SetupOptions, progress: ProgressOptions): SourceData {
  const folder = locateFashionMnist(options.from);
  const bar = startProgress('Convert', 2, progress);
  try {
    const train = readFashionMnistSplit(folder, 'train', options.limit);
    bar.increment();
    const test = readFashionMnistSplit(folder, 't10k', options.limit);
    bar.increment();
    return { train, test, source: folder };
  } finally {
    bar.stop();
  }
}

/** Class names as folder names: anything but letters, digits, '-', '_' and '.' becomes '_' ("T-shirt/top" → "T-shirt_top"). */
export function classFolderName(className: string): string {
  return className.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Writes `<imagesDir>/{train,test}/<class>/NNNN.png`, numbered from 1 per class in dataset
 * order. The tree is built under a temporary name and renamed into place when complete.
 */
function writePngTree(imagesDir: string, classes: readonly string[], splits: Record<'train' | 'test', Split>, progress: ProgressOptions): void {
  const partial = `${imagesDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const bar = startProgress('PNG images', splits.train.count + splits.test.count, progress);
  try {
    for (const [splitName, split] of Object.entries(splits)) {
      const classDirs = classes.map((name) => join(partial, splitName, classFolderName(name)));
      for (const dir of classDirs) mkdirSync(dir, { recursive: true });
      const perClass = new Array<number>(classes.length).fill(0);
      for (const label of split.labels) perClass[label]! += 1;
      const digits = Math.max(4, String(Math.max(...perClass)).length);
      perClass.fill(0);
      for (let i = 0; i < split.count; i++) {
        const label = split.labels[i]!;
        perClass[label]! += 1;
        const png = encodePngRgb(IMAGE_WIDTH, IMAGE_HEIGHT, chwToInterleaved(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES)));
        writeFileSync(join(classDirs[label]!, `${String(perClass[label]).padStart(digits, '0')}.png`), png);
        bar.increment();
      }
    }
  } finally {
    bar.stop();
  }
  rmSync(imagesDir, { recursive: true, force: true });
  renameSync(partial, imagesDir);
}

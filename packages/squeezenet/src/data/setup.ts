import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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
import { regularFileSize, writeFileAtomic } from './fsutil.js';
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
import { withLock } from '../reliability/lock.js';
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
  /** A download gives up when connecting, or any wait for more data, takes longer (default 60 s). */
  downloadTimeoutMs?: number;
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
  return withLock(options.dataDir, 'data', { role: '--data_dir', info: log }, () => setupLocked(options, dataset, log));
}

async function setupLocked(options: SetupOptions, dataset: DatasetName, log: (line: string) => void): Promise<SetupResult> {
  const progress: ProgressOptions = { progress: options.progress, log };
  const { dataDir } = options;
  const paths = datasetPaths(dataDir, dataset);
  const classes = CLASSES[dataset];
  const title = DATASET_TITLES[dataset];

  const existing = verifiedExistingSet(dataDir, dataset, options.limit, log);
  if (existing !== undefined) {
    log(`${title} already prepared in ${paths.dir}`);
    writeIfChanged(join(dataDir, 'labels.txt'), labelsText(classes));
    return { dataset, dir: paths.dir, trainCount: existing.trainCount, testCount: existing.testCount, alreadyPresent: true };
  }

  // The new set is built beside the old one and swapped in only when complete: a source that
  // turns out to be bad, a full disk or a kill leaves the old set as it was.
  const staging = join(dataDir, `.${dataset}.setup-partial`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    const data =
      dataset === 'cifar10' ? await readCifarSource(options, staging, progress) : readFashionSource(options, progress);
    const train = takeFirst(data.train, options.limit);
    const test = takeFirst(data.test, options.limit);
    for (const [name, split] of [['training', train], ['test', test]] as const) {
      if (split.count === 0) throw new DataError(`${data.source}: holds no ${name} images; pass --from a complete ${title} source.`);
    }
    const staged = datasetPaths(staging, dataset);
    try {
      mkdirSync(staged.dir, { recursive: true });
      writeDataFile(staged.train, train);
      writeDataFile(staged.test, test);
      writeFileAtomic(staged.labels, labelsText(classes));
      writePngTree(staged.imagesDir, classes, { train, test }, progress);
      const meta: DatasetMeta = {
        dataset,
        classes: [...classes],
        trainCount: train.count,
        testCount: test.count,
        source: data.source,
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      };
      writeFileAtomic(staged.meta, `${JSON.stringify(meta, null, 2)}\n`);
      writeIfChanged(join(dataDir, 'labels.txt'), labelsText(classes));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw error;
      const file = (error as NodeJS.ErrnoException).path ?? staging;
      const what = code === 'ENOSPC' ? 'no space left on device' : (error as Error).message;
      throw new DataError(`${file}: ${what} (${code}); the prepared set in ${paths.dir} is unchanged — free some space and run setup again.`, { cause: error });
    }
    // Images first, then the folder whose meta.json vouches for the set.
    for (const [from, to] of [[staged.imagesDir, paths.imagesDir], [staged.dir, paths.dir]] as const) {
      if (existsSync(to)) renameSync(to, join(staging, `old-${basename(to)}`));
      renameSync(from, to);
    }
    log(`${title} prepared in ${paths.dir}: ${train.count} training and ${test.count} test images`);
    return { dataset, dir: paths.dir, trainCount: train.count, testCount: test.count, alreadyPresent: false };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
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

async function readCifarSource(options: SetupOptions, staging: string, progress: ProgressOptions): Promise<SourceData> {
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
    return { ...(await readCifarArchive(options.from, staging, progress)), source: options.from };
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
    await downloadCifar10({ destination: archive, url: source, progress: progress.progress, log: progress.log, timeoutMs: options.downloadTimeoutMs });
  }
  return { ...(await readCifarArchive(archive, staging, progress)), source };
}

/** `dir` itself when it holds the batch files, or its cifar-10-batches-bin subfolder when that does. */
function findBatchesFolder(dir: string): string | undefined {
  return [dir, join(dir, CIFAR10_FOLDER)].find((candidate) => existsSync(join(candidate, CIFAR10_TRAIN_FILES[0]!)));
}

async function readCifarArchive(archive: string, staging: string, progress: ProgressOptions): Promise<{ train: Split; test: Split }> {
  const archiveBytes = regularFileSize(archive, MAX_ARCHIVE_BYTES, 'the CIFAR-10 archive');
  // Only the genuine archive has a known checksum; other archives (fixtures, repacks) are checked record by record.
  if (archive.endsWith(CIFAR10_ARCHIVE_NAME) && archiveBytes === CIFAR10_ARCHIVE_SIZE) {
    const md5 = await md5OfFile(archive);
    if (md5 !== CIFAR10_ARCHIVE_MD5) {
      throw new DataError(`${archive}: MD5 ${md5} differs from the official ${CIFAR10_ARCHIVE_MD5} (corrupt); re-download it.`);
    }
  }
  await checkUnpackedSize(archive);
  const extractDir = join(staging, 'extract');
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
const CIFAR10_BATCH_BYTES = CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES;
/** The official archive is 170 MB and unpacks to 185 MB; these bounds leave room for a repack. */
const MAX_ARCHIVE_BYTES = 400_000_000;
const MAX_UNPACKED_BYTES = 400_000_000;

/**
 * Refuses an archive that unpacks to more than MAX_UNPACKED_BYTES, counting while it decompresses
 * (a gzip bomb is stopped as it passes the bound, not after).
 */
async function checkUnpackedSize(archive: string): Promise<void> {
  const head = Buffer.alloc(2);
  const fd = openSync(archive, 'r');
  try { readSync(fd, head, 0, 2, 0); } finally { closeSync(fd); }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return; // a plain tar: its size was bounded above
  let total = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      callback(total > MAX_UNPACKED_BYTES ? new DataError(`${archive}: unpacks to more than ${MAX_UNPACKED_BYTES} bytes; this is not the CIFAR-10 binary archive — re-download it.`) : null);
    },
  });
  try {
    await pipeline(createReadStream(archive), createGunzip(), count);
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`${archive}: cannot be extracted (${error instanceof Error ? error.message : String(error)}); the archive is damaged or not a .tar.gz — re-download it.`, { cause: error });
  }
}

/**
 * Extracts synchronously: when this returns or throws, nothing is still being written. (tar's
 * streaming extraction goes on writing entries after reporting its first error, racing the removal
 * of the extraction folder, and some damaged entries — a path with a NUL byte — made it throw from
 * a callback, crashing the process.) Only the six batch files at their exact paths
 * (`cifar-10-batches-bin/data_batch_1.bin`, …), each once, as regular files no larger than a
 * CIFAR-10 batch, are written: at most six batches' bytes, whatever the archive holds.
 */
function extractTarGz(archive: string, into: string, archiveBytes: number, progress: ProgressOptions): void {
  const bar = startProgress('Extract', archiveBytes, progress, formatBytes);
  const wanted = new Set<string>([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].map((f) => `${CIFAR10_FOLDER}/${f}`));
  const taken = new Set<string>();
  let refused: string | null = null;
  try {
    // strict turns tar's warnings about damaged entries into errors instead of skipping them silently.
    tar.x({
      file: archive, cwd: into, strict: true, sync: true,
      filter: (path, entry) => {
        const name = path.replace(/^(\.\/)+/, '');
        if (!wanted.has(name)) return false;
        const type = 'type' in entry ? entry.type : 'File';
        const size = 'size' in entry ? entry.size : 0;
        if (type !== 'File' && type !== 'OldFile') refused ??= `entry ${path} is a ${type}, not a file`;
        else if (taken.has(name)) refused ??= `entry ${path} appears more than once`;
        else if (size > CIFAR10_BATCH_BYTES) refused ??= `entry ${path} (${size} bytes) is larger than a CIFAR-10 batch (${CIFAR10_BATCH_BYTES} bytes)`;
        else { taken.add(name); return refused === null; }
        return false;
      },
    });
    bar.increment(archiveBytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`${archive}: cannot be extracted (${reason}); the archive is damaged or not a .tar.gz — re-download it.`, { cause: error });
  } finally {
    bar.stop();
  }
  if (refused !== null) {
    throw new DataError(`${archive}: ${refused}; this is not the CIFAR-10 binary archive — re-download it.`);
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
 * order (in the setup's staging folder, which is swapped in when complete).
 */
function writePngTree(imagesDir: string, classes: readonly string[], splits: Record<'train' | 'test', Split>, progress: ProgressOptions): void {
  const partial = imagesDir;
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
}

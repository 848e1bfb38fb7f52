import { readFileSync } from 'node:fs';
import { DataError } from './errors.js';
import { hasErrorCode, regularFileSize } from './fsutil.js';
import { IMAGE_BYTES, type Split } from './split.js';

export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
export const CIFAR10_ARCHIVE_SIZE = 170052171;
export const CIFAR10_ARCHIVE_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((n) => `data_batch_${n}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';

/** A record is one label byte followed by the R, G and B planes of a 32×32 image — already our CHW layout. */
export const CIFAR10_RECORD_BYTES = 1 + IMAGE_BYTES;

/** A batch file holds 10000 records. */
const CIFAR10_BATCH_MAX_BYTES = 10_000 * CIFAR10_RECORD_BYTES;

const REDOWNLOAD_ADVICE = `re-download ${CIFAR10_ARCHIVE_NAME} and run squeeze setup again`;

/**
 * Parses the records of one CIFAR-10 binary batch file. `fileName` is only used in error
 * messages, so callers pass whatever tells the user which file is bad.
 */
export function parseCifarBatch(bytes: Uint8Array, fileName: string): Split {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(
      `${fileName}: ${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records ` +
        `(truncated or not CIFAR-10 binary); ${REDOWNLOAD_ADVICE}.`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const record = i * CIFAR10_RECORD_BYTES;
    const label = bytes[record]!;
    if (label >= CIFAR10_CLASSES.length) {
      throw new DataError(
        `${fileName}: record ${i} has label ${label}, expected 0-9 (corrupt or not CIFAR-10 binary); ${REDOWNLOAD_ADVICE}.`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(record + 1, record + CIFAR10_RECORD_BYTES), i * IMAGE_BYTES);
  }
  return { count, labels, images };
}

/** Serialises images in the CIFAR-10 binary batch format (the inverse of parseCifarBatch). */
export function encodeCifarBatch(split: Split): Uint8Array {
  const bytes = new Uint8Array(split.count * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < split.count; i++) {
    bytes[i * CIFAR10_RECORD_BYTES] = split.labels[i]!;
    bytes.set(split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), i * CIFAR10_RECORD_BYTES + 1);
  }
  return bytes;
}

/** Joins splits end to end, in order. */
export function concatSplits(splits: readonly Split[]): Split {
  const count = splits.reduce((sum, split) => sum + split.count, 0);
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * IMAGE_BYTES);
  let offset = 0;
  for (const split of splits) {
    labels.set(split.labels, offset);
    images.set(split.images, offset * IMAGE_BYTES);
    offset += split.count;
  }
  return { count, labels, images };
}

/**
 * Reads and parses one batch file. `displayName` names it in error messages; it differs from
 * `path` when the file sits in a temporary extraction of an archive.
 */
export function readCifarBatchFile(path: string, displayName = path): Split {
  let bytes: Buffer;
  try {
    regularFileSize(path, CIFAR10_BATCH_MAX_BYTES, `the CIFAR-10 batch files (${CIFAR10_FOLDER})`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof DataError) throw new DataError(error.message.replace(path, displayName));
    if (hasErrorCode(error, 'ENOENT')) {
      throw new DataError(
        `${displayName}: missing; CIFAR-10 needs ${CIFAR10_TRAIN_FILES.join(', ')} and ${CIFAR10_TEST_FILE} in ${CIFAR10_FOLDER}; ${REDOWNLOAD_ADVICE}.`,
      );
    }
    throw new DataError(`${displayName}: cannot be read (${String(error)}); check its permissions.`, { cause: error });
  }
  return parseCifarBatch(bytes, displayName);
}

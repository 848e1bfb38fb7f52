import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';
import { hasErrorCode, regularFileSize } from './fsutil.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_PLANE, IMAGE_WIDTH, type Split } from './split.js';

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package installs the files. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

const SOURCE_SIDE = 28;
/** 28×28 images are centred in 32×32 with this many zero pixels on each side. */
const PAD = (IMAGE_WIDTH - SOURCE_SIDE) / 2;
/** The largest Fashion-MNIST file: 60000 training images of 28×28 bytes after a 16-byte header. */
const MAX_IDX_BYTES = 16 + 60_000 * SOURCE_SIDE * SOURCE_SIDE;
const IDX_LABELS_MAGIC = 0x00000801;
const IDX_IMAGES_MAGIC = 0x00000803;

export type FashionMnistSplit = 'train' | 't10k';

function idxFileNames(split: FashionMnistSplit) {
  return { images: `${split}-images-idx3-ubyte`, labels: `${split}-labels-idx1-ubyte` };
}

function findIdxFile(dir: string, baseName: string): string | undefined {
  return [`${baseName}.gz`, baseName].map((name) => join(dir, name)).find((path) => existsSync(path));
}

/**
 * The folder to read Fashion-MNIST from: `from` when given, else the system folder when
 * the Debian package is installed. `systemDir` is a parameter so tests can simulate its absence.
 */
export function locateFashionMnist(from: string | undefined, systemDir = FASHION_MNIST_SYSTEM_DIR): string {
  if (from !== undefined) {
    if (!existsSync(from) || !statSync(from).isDirectory()) {
      throw new DataError(`${from}: not a folder; pass --from the folder holding the four Fashion-MNIST idx files (.gz or raw).`);
    }
    return from;
  }
  if (findIdxFile(systemDir, idxFileNames('train').images) !== undefined) return systemDir;
  throw new DataError(
    `${systemDir}: Fashion-MNIST not found; run \`apt-get install dataset-fashion-mnist\` or pass --from the folder holding its four idx files.`,
  );
}

/** Reads an idx file, gunzipping it when it starts with the gzip magic, and checks its header. */
function readIdx(path: string, expectedMagic: number, expectedDims: number): { dims: number[]; data: Uint8Array } {
  let bytes: Uint8Array;
  regularFileSize(path, MAX_IDX_BYTES, 'the folder holding the four Fashion-MNIST idx files');
  try {
    bytes = readFileSync(path);
    // maxOutputLength stops inflating as the bound is passed: a gzip bomb never reaches memory.
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
  } catch (error) {
    if (hasErrorCode(error, 'ERR_BUFFER_TOO_LARGE')) {
      throw new DataError(`${path}: unpacks to more than ${MAX_IDX_BYTES} bytes, more than any Fashion-MNIST file; reinstall or re-download Fashion-MNIST.`);
    }
    throw new DataError(`${path}: cannot be read or decompressed (${String(error)}); reinstall or re-download Fashion-MNIST.`, {
      cause: error,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = 4 + 4 * expectedDims;
  if (bytes.length < headerBytes || view.getUint32(0) !== expectedMagic) {
    throw new DataError(`${path}: not an idx${expectedDims} file (bad header); reinstall or re-download Fashion-MNIST.`);
  }
  const dims = Array.from({ length: expectedDims }, (_, i) => view.getUint32(4 + 4 * i));
  const expectedBytes = headerBytes + dims.reduce((product, dim) => product * dim, 1);
  if (bytes.length !== expectedBytes) {
    throw new DataError(
      `${path}: ${bytes.length} bytes but its header (${dims.join('×')}) needs ${expectedBytes} (truncated or corrupt); reinstall or re-download Fashion-MNIST.`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Reads one Fashion-MNIST split (the first `limit` images when given) as 3×32×32 images:
 * each 28×28 grey image zero-padded by 2 pixels per side and copied into all three channels,
 * so the same network shape serves CIFAR-10 and Fashion-MNIST.
 */
export function readFashionMnistSplit(dir: string, split: FashionMnistSplit, limit?: number): Split {
  const names = idxFileNames(split);
  const findRequired = (baseName: string): string => {
    const path = findIdxFile(dir, baseName);
    if (path === undefined) {
      throw new DataError(`${join(dir, baseName)}(.gz): missing; the Fashion-MNIST folder must hold the four idx files.`);
    }
    return path;
  };
  const imagesPath = findRequired(names.images);
  const labelsPath = findRequired(names.labels);
  const images = readIdx(imagesPath, IDX_IMAGES_MAGIC, 3);
  const labels = readIdx(labelsPath, IDX_LABELS_MAGIC, 1);
  const [imageCount, rows, cols] = images.dims as [number, number, number];
  if (rows !== SOURCE_SIDE || cols !== SOURCE_SIDE) {
    throw new DataError(`${imagesPath}: images are ${rows}×${cols}, expected 28×28; this is not Fashion-MNIST.`);
  }
  if (labels.dims[0] !== imageCount) {
    throw new DataError(`${labelsPath}: ${labels.dims[0]} labels for ${imageCount} images in ${imagesPath}; reinstall or re-download Fashion-MNIST.`);
  }
  const count = Math.min(imageCount, limit ?? imageCount);
  const out: Split = { count, labels: new Uint8Array(count), images: new Uint8Array(count * IMAGE_BYTES) };
  for (let i = 0; i < count; i++) {
    const label = labels.data[i]!;
    if (label >= FASHION_MNIST_CLASSES.length) {
      throw new DataError(`${labelsPath}: label ${i} is ${label}, expected 0-9 (corrupt); reinstall or re-download Fashion-MNIST.`);
    }
    out.labels[i] = label;
    const source = i * SOURCE_SIDE * SOURCE_SIDE;
    for (let channel = 0; channel < IMAGE_CHANNELS; channel++) {
      const plane = i * IMAGE_BYTES + channel * IMAGE_PLANE;
      for (let y = 0; y < SOURCE_SIDE; y++) {
        const row = images.data.subarray(source + y * SOURCE_SIDE, source + (y + 1) * SOURCE_SIDE);
        out.images.set(row, plane + (y + PAD) * IMAGE_WIDTH + PAD);
      }
    }
  }
  return out;
}


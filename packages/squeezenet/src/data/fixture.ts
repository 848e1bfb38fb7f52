import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import {
  CIFAR10_ARCHIVE_NAME,
  CIFAR10_CLASSES,
  CIFAR10_FOLDER,
  CIFAR10_META_FILE,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  encodeCifarBatch,
} from './cifar.js';
import { tempNameFor } from './fsutil.js';
import { hash32, mulberry32, permutation } from './prng.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_PLANE, IMAGE_WIDTH, type Split } from './split.js';

export interface CifarFixtureOptions {
  /** Training images per class (default 30), spread over the five training batches. */
  trainPerClass?: number;
  /** Test images per class (default 10). */
  testPerClass?: number;
  seed?: number;
}

/** One clearly different base colour per class, so even a tiny CNN separates classes quickly. */
const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [200, 60, 60],
  [60, 200, 60],
  [60, 60, 200],
  [200, 200, 60],
  [200, 60, 200],
  [60, 200, 200],
  [230, 140, 40],
  [140, 40, 230],
  [40, 230, 140],
  [150, 150, 150],
];
const STRIPE_PERIOD_PIXELS = 8;
const NOISE_AMPLITUDE = 24;

/**
 * Draws `perClass` images of every class in a shuffled order. Each class is stripes of its own
 * colour at its own angle (class · 18°), with a random stripe phase and per-pixel noise so
 * that no two images are equal and a model has to learn the pattern rather than memorise.
 */
function drawSplit(perClass: number, random: () => number): Split {
  const classCount = CIFAR10_CLASSES.length;
  const count = perClass * classCount;
  const order = permutation(count, random);
  const split: Split = { count, labels: new Uint8Array(count), images: new Uint8Array(count * IMAGE_BYTES) };
  for (let i = 0; i < count; i++) {
    const label = order[i]! % classCount;
    split.labels[i] = label;
    const angle = (label * Math.PI) / classCount;
    const phase = random() * 2 * Math.PI;
    for (let y = 0; y < IMAGE_HEIGHT; y++) {
      for (let x = 0; x < IMAGE_WIDTH; x++) {
        const along = x * Math.cos(angle) + y * Math.sin(angle);
        const stripe = 0.55 + 0.45 * Math.sin((2 * Math.PI * along) / STRIPE_PERIOD_PIXELS + phase);
        for (let c = 0; c < IMAGE_CHANNELS; c++) {
          const noise = (random() * 2 - 1) * NOISE_AMPLITUDE;
          const value = Math.round(CLASS_COLOURS[label]![c]! * stripe + noise);
          split.images[i * IMAGE_BYTES + c * IMAGE_PLANE + y * IMAGE_WIDTH + x] = Math.min(255, Math.max(0, value));
        }
      }
    }
  }
  return split;
}

/** Records [start, end) of a split, sharing memory. */
function sliceSplit(split: Split, start: number, end: number): Split {
  return {
    count: end - start,
    labels: split.labels.subarray(start, end),
    images: split.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES),
  };
}

/**
 * Writes `dir/cifar-10-binary.tar.gz`: a small stand-in for the real archive with the same
 * layout and record format, and learnable images, for tests and CI. The archive's bytes
 * depend only on the options (fixed mtimes, portable headers). Returns the archive path.
 */
export async function makeCifarFixture(dir: string, options: CifarFixtureOptions = {}): Promise<string> {
  const { trainPerClass = 30, testPerClass = 10, seed = 1 } = options;
  const train = drawSplit(trainPerClass, mulberry32(hash32(seed, 1)));
  const test = drawSplit(testPerClass, mulberry32(hash32(seed, 2)));

  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, '.cifar-fixture-'));
  try {
    const folder = join(staging, CIFAR10_FOLDER);
    mkdirSync(folder);
    const files = new Map<string, Uint8Array | string>();
    CIFAR10_TRAIN_FILES.forEach((file, batch) => {
      const start = Math.floor((batch * train.count) / CIFAR10_TRAIN_FILES.length);
      const end = Math.floor(((batch + 1) * train.count) / CIFAR10_TRAIN_FILES.length);
      files.set(file, encodeCifarBatch(sliceSplit(train, start, end)));
    });
    files.set(CIFAR10_TEST_FILE, encodeCifarBatch(test));
    files.set(CIFAR10_META_FILE, `${CIFAR10_CLASSES.join('\n')}\n\n`);
    for (const [file, contents] of files) {
      writeFileSync(join(folder, file), contents);
      // The umask would otherwise leak into the archive's headers.
      chmodSync(join(folder, file), 0o644);
    }

    const archive = join(dir, CIFAR10_ARCHIVE_NAME);
    const temp = tempNameFor(archive);
    await tar.c(
      { gzip: true, file: temp, cwd: staging, portable: true, mtime: new Date(0) },
      [...files.keys()].map((file) => `${CIFAR10_FOLDER}/${file}`),
    );
    renameSync(temp, archive);
    return archive;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

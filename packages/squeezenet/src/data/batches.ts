import { hash32, mulberry32, permutation } from './prng.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_PLANE, IMAGE_WIDTH, type Split } from './split.js';
import type { DataFormat } from '@squeeze/core';

/*
 * Batches of a loaded split for training and evaluation. Pure computation on bytes already in
 * memory (no files), shared by \`squeeze train\` and the web page.
 */

/** NCHW: batch × channel × row × column; NHWC: batch × row × column × channel. */

/**
 * Writes image `index` of `split` as floats in [0, 1] into row `row` of a batch in `layout`,
 * mirrored left-right when `flip` is set.
 */
function copyImage(split: Split, index: number, flip: boolean, x: Float32Array, row: number, layout: DataFormat): void {
  const source = index * IMAGE_BYTES;
  const target = row * IMAGE_BYTES;
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    for (let pixel = 0; pixel < IMAGE_PLANE; pixel++) {
      const column = pixel % IMAGE_WIDTH;
      const sourcePixel = flip ? pixel - column + (IMAGE_WIDTH - 1 - column) : pixel;
      const value = split.images[source + c * IMAGE_PLANE + sourcePixel]! / 255;
      x[layout === 'NCHW' ? target + c * IMAGE_PLANE + pixel : target + pixel * IMAGE_CHANNELS + c] = value;
    }
  }
}

export interface TrainBatcherOptions {
  batchSize: number;
  seed: number;
  /** Mirror each image left-right with probability 0.5 (data augmentation). */
  flip: boolean;
}

/** Everything needed to resume a batcher exactly: the order of epoch e is a function of (seed, e). */
export interface TrainBatcherState {
  seed: number;
  /** Epochs completed. */
  epoch: number;
  /** Images of the current epoch already handed out. */
  position: number;
}

export interface TrainBatch {
  /** batch × 3 × 32 × 32 (NCHW) or batch × 32 × 32 × 3 (NHWC), values in [0, 1]. */
  x: Float32Array;
  y: Int32Array;
  /** Which training images the rows are, for debugging and tests. */
  indices: Uint32Array;
}

const SHUFFLE_STREAM = 1;
const FLIP_STREAM = 2;

/**
 * Endless shuffled training batches: each epoch visits every image once in an order drawn
 * from (seed, epoch), and batches run on across epoch boundaries so every batch is full.
 * Flips depend only on (seed, epoch, position), so a restored batcher repeats the same batches.
 */
export class TrainBatcher {
  private epoch = 0;
  private position = 0;
  private order: Uint32Array;

  constructor(
    private readonly split: Split,
    private readonly options: TrainBatcherOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`TrainBatcher: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    if (split.count === 0) throw new RangeError('TrainBatcher: the training split is empty');
    this.order = this.epochOrder(0);
  }

  /** A batcher that continues exactly where the one that produced `state` was; the state's seed wins over `options.seed`. */
  static restore(split: Split, options: TrainBatcherOptions, state: TrainBatcherState): TrainBatcher {
    if (!Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.position) || state.position < 0 || state.position >= split.count) {
      throw new RangeError(`TrainBatcher.restore: state ${JSON.stringify(state)} does not fit a split of ${split.count} images`);
    }
    const batcher = new TrainBatcher(split, { ...options, seed: state.seed });
    batcher.epoch = state.epoch;
    batcher.position = state.position;
    batcher.order = batcher.epochOrder(state.epoch);
    return batcher;
  }

  state(): TrainBatcherState {
    return { seed: this.options.seed, epoch: this.epoch, position: this.position };
  }

  next(layout: DataFormat): TrainBatch {
    const { batchSize, seed, flip } = this.options;
    const batch: TrainBatch = {
      x: new Float32Array(batchSize * IMAGE_BYTES),
      y: new Int32Array(batchSize),
      indices: new Uint32Array(batchSize),
    };
    for (let row = 0; row < batchSize; row++) {
      const index = this.order[this.position]!;
      const mirrored = flip && (hash32(seed, FLIP_STREAM, this.epoch, this.position) & 1) === 1;
      copyImage(this.split, index, mirrored, batch.x, row, layout);
      batch.y[row] = this.split.labels[index]!;
      batch.indices[row] = index;
      this.position += 1;
      if (this.position === this.split.count) {
        this.epoch += 1;
        this.position = 0;
        this.order = this.epochOrder(this.epoch);
      }
    }
    return batch;
  }

  private epochOrder(epoch: number): Uint32Array {
    return permutation(this.split.count, mulberry32(hash32(this.options.seed, SHUFFLE_STREAM, epoch)));
  }
}

export interface TestBatch {
  /** Always a full batch; rows from `count` on are zeros. */
  x: Float32Array;
  y: Int32Array;
  /** How many rows are real images. */
  count: number;
}

/**
 * The split in order, in batches of `batchSize`; the last batch is zero-padded to full size
 * so that a model compiled for one batch shape can evaluate everything.
 */
export function* testBatches(split: Split, batchSize: number, layout: DataFormat): Generator<TestBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`testBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  for (let start = 0; start < split.count; start += batchSize) {
    const count = Math.min(batchSize, split.count - start);
    const x = new Float32Array(batchSize * IMAGE_BYTES);
    const y = new Int32Array(batchSize);
    for (let row = 0; row < count; row++) {
      copyImage(split, start + row, false, x, row, layout);
      y[row] = split.labels[start + row]!;
    }
    yield { x, y, count };
  }
}

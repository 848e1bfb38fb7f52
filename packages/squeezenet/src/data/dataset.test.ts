import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDataFile, writeDataFile } from './datafile.js';
import { loadDataset, testBatches, TrainBatcher, type TrainBatch } from './dataset.js';
import { DataError } from './errors.js';
import { makeCifarFixture } from './fixture.js';
import { setupData } from './setup.js';
import { IMAGE_BYTES, type Split } from './split.js';
import { makeTempDir } from './test-helpers.js';
import type { DataFormat } from '@squeeze/core';

/** `count` images whose pixel (c, y, x) of image i is (i + 3c + 5y + 7x) mod 256: no two rows, channels or columns alike. */
function syntheticSplit(count: number): Split {
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) images[i * IMAGE_BYTES + c * 1024 + y * 32 + x] = (i + 3 * c + 5 * y + 7 * x) % 256;
  }
  return { count, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), images };
}

function pixel(split: Split, i: number, c: number, y: number, x: number): number {
  return split.images[i * IMAGE_BYTES + c * 1024 + y * 32 + x]! / 255;
}

function isDataError(pattern: RegExp) {
  return (error: unknown) => error instanceof DataError && pattern.test(error.message);
}

describe('data/dataset: loadDataset', function () {
  this.timeout(120_000);
  let root: string;
  let dataDir: string;
  before(async () => {
    root = makeTempDir('dataset');
    const archive = await makeCifarFixture(join(root, 'fixture'), { trainPerClass: 3, testPerClass: 2 });
    dataDir = join(root, 'data');
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips a data file', () => {
    const path = join(root, 'round-trip.bin');
    const split = syntheticSplit(5);
    writeDataFile(path, split);
    assert.equal(statSync(path).size, 28 + 5 + 5 * IMAGE_BYTES);
    assert.deepEqual(readDataFile(path, 'advice'), split);
  });

  it('loads the prepared set, choosing it when no name is given', () => {
    const loaded = loadDataset(dataDir);
    assert.equal(loaded.name, 'cifar10');
    assert.equal(loaded.classes[8], 'ship');
    assert.deepEqual([loaded.train.count, loaded.test.count], [30, 20]);
    assert.equal(loaded.train.images.length, 30 * IMAGE_BYTES);
    assert.deepEqual(loadDataset(dataDir, 'cifar10').test.images, loaded.test.images);
  });

  it('names missing, truncated and corrupt files and says to run squeeze setup', () => {
    assert.throws(() => loadDataset(join(root, 'nothing')), isDataError(/nothing: no prepared dataset .*run `squeeze setup` first/));
    assert.throws(() => loadDataset(dataDir, 'fashion-mnist'), isDataError(/fashion-mnist\/meta\.json: missing .*run `squeeze setup --dataset fashion-mnist`/));
    assert.throws(() => loadDataset(dataDir, 'mnist'), isDataError(/Unknown dataset "mnist"/));

    const trainBin = join(dataDir, 'cifar10', 'train.bin');
    const original = readFileSync(trainBin);
    try {
      truncateSync(trainBin, original.length - 1);
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: \d+ bytes but its header promises \d+ \(truncated\); run `squeeze setup`\.$/));
      truncateSync(trainBin, 10);
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: only 10 bytes, too short for the header/));

      const flipped = Buffer.from(original);
      flipped[original.length - 100] ^= 1;
      writeFileSync(trainBin, flipped);
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: checksum mismatch \(file corrupt\); run `squeeze setup`/));

      writeFileSync(trainBin, Buffer.concat([Buffer.from('NOTADATA'), original.subarray(8)]));
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: not a prepared data file/));

      rmSync(trainBin);
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: missing; run `squeeze setup`/));

      writeDataFile(trainBin, syntheticSplit(4));
      assert.throws(() => loadDataset(dataDir), isDataError(/train\.bin: holds 4 images but meta\.json says 30/));
    } finally {
      writeFileSync(trainBin, original);
    }
    const metaPath = join(dataDir, 'cifar10', 'meta.json');
    const meta = readFileSync(metaPath);
    try {
      writeFileSync(metaPath, '{"dataset": "cifar10"');
      assert.throws(() => loadDataset(dataDir), isDataError(/meta\.json: not valid JSON/));
    } finally {
      writeFileSync(metaPath, meta);
    }
    assert.equal(loadDataset(dataDir).train.count, 30);
  });
});

describe('data/dataset: TrainBatcher', () => {
  const split = syntheticSplit(37);

  function collect(batcher: TrainBatcher, batches: number, layout: DataFormat = 'NCHW'): TrainBatch[] {
    return Array.from({ length: batches }, () => batcher.next(layout));
  }

  it('visits every image exactly once per epoch, in a different order each epoch, across batch boundaries', () => {
    const batcher = new TrainBatcher(split, { batchSize: 5, seed: 42, flip: false });
    // 37 images in batches of 5: epochs end mid-batch, which must not lose or repeat images.
    const indices = collect(batcher, 15).flatMap((batch) => [...batch.indices]);
    const epochs = [indices.slice(0, 37), indices.slice(37, 74)];
    for (const epoch of epochs) assert.deepEqual([...epoch].sort((a, b) => a - b), [...Array(37).keys()]);
    assert.notDeepEqual(epochs[0], epochs[1]);
    assert.notDeepEqual(epochs[0], [...Array(37).keys()], 'shuffled');
    assert.deepEqual(batcher.state(), { seed: 42, epoch: 2, position: 75 - 74 });
  });

  it('labels and pixel values follow the indices, scaled to [0, 1]', () => {
    const batch = new TrainBatcher(split, { batchSize: 4, seed: 1, flip: false }).next('NCHW');
    for (let row = 0; row < 4; row++) {
      const index = batch.indices[row]!;
      assert.equal(batch.y[row], split.labels[index]);
      assert.equal(batch.x[row * IMAGE_BYTES + 2 * 1024 + 3 * 32 + 4], Math.fround(pixel(split, index, 2, 3, 4)));
    }
  });

  it('depends only on the seed, and restoring a saved state mid-epoch repeats the following batches', () => {
    const options = { batchSize: 6, seed: 9, flip: true };
    const first = new TrainBatcher(split, options);
    collect(first, 4);
    const saved = JSON.parse(JSON.stringify(first.state()));
    assert.deepEqual(saved, { seed: 9, epoch: 0, position: 24 });
    const continued = collect(first, 10);
    // Restoring with a different seed in options still follows the saved state's seed.
    const restored = TrainBatcher.restore(split, { ...options, seed: 1234 }, saved);
    assert.deepEqual(collect(restored, 10), continued);

    const again = new TrainBatcher(split, options);
    collect(again, 4);
    assert.deepEqual(collect(again, 10), continued);
    const otherSeed = collect(new TrainBatcher(split, { ...options, seed: 10 }), 1)[0]!;
    assert.notDeepEqual(otherSeed.indices, collect(new TrainBatcher(split, options), 1)[0]!.indices);
    assert.throws(() => TrainBatcher.restore(split, options, { seed: 9, epoch: 0, position: 37 }), RangeError);
  });

  it('mirrors about half of the images left-right when flip is on, and none when off', () => {
    const count = (flip: boolean) => {
      let mirrored = 0;
      for (const batch of collect(new TrainBatcher(split, { batchSize: 8, seed: 3, flip }), 40)) {
        for (let row = 0; row < 8; row++) {
          const index = batch.indices[row]!;
          const at = (c: number, y: number, x: number) => batch.x[row * IMAGE_BYTES + c * 1024 + y * 32 + x]!;
          let plain = true;
          let flipped = true;
          for (let c = 0; c < 3; c++) {
            for (let y = 0; y < 32; y++) {
              for (let x = 0; x < 32; x++) {
                plain &&= at(c, y, x) === Math.fround(pixel(split, index, c, y, x));
                flipped &&= at(c, y, x) === Math.fround(pixel(split, index, c, y, 31 - x));
              }
            }
          }
          assert.ok(plain !== flipped, 'each row is exactly the image or exactly its mirror');
          if (flipped) mirrored += 1;
        }
      }
      return mirrored / 320;
    };
    assert.equal(count(false), 0);
    const share = count(true);
    assert.ok(share > 0.4 && share < 0.6, `mirrored share ${share}`);
  });

  it('gives the same data in NCHW and NHWC, transposed', () => {
    const options = { batchSize: 3, seed: 5, flip: true };
    const nchw = collect(new TrainBatcher(split, options), 13, 'NCHW');
    const nhwc = collect(new TrainBatcher(split, options), 13, 'NHWC');
    for (let b = 0; b < 13; b++) {
      assert.deepEqual(nhwc[b]!.indices, nchw[b]!.indices);
      assert.deepEqual(nhwc[b]!.y, nchw[b]!.y);
      for (let row = 0; row < 3; row++) {
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < 1024; p++) {
            if (nhwc[b]!.x[row * IMAGE_BYTES + p * 3 + c] !== nchw[b]!.x[row * IMAGE_BYTES + c * 1024 + p]) assert.fail(`batch ${b} row ${row} c ${c} p ${p}`);
          }
        }
      }
    }
  });

  it('rejects bad batch sizes', () => {
    assert.throws(() => new TrainBatcher(split, { batchSize: 0, seed: 1, flip: false }), RangeError);
    assert.throws(() => new TrainBatcher(split, { batchSize: 2.5, seed: 1, flip: false }), RangeError);
  });
});

describe('data/dataset: testBatches', () => {
  it('yields the split in order, zero-padding the last batch to full size', () => {
    const split = syntheticSplit(23);
    const batches = [...testBatches(split, 10, 'NCHW')];
    assert.deepEqual(batches.map((batch) => batch.count), [10, 10, 3]);
    for (const batch of batches) {
      assert.equal(batch.x.length, 10 * IMAGE_BYTES);
      assert.equal(batch.y.length, 10);
    }
    const last = batches[2]!;
    assert.deepEqual([...last.y.subarray(0, 3)], [0, 1, 2]);
    assert.equal(last.x[2 * IMAGE_BYTES + 1024 + 5 * 32 + 6], Math.fround(pixel(split, 22, 1, 5, 6)));
    assert.ok(last.x.subarray(3 * IMAGE_BYTES).every((value) => value === 0));
    assert.ok(last.y.subarray(3).every((value) => value === 0));
    assert.equal(batches[1]!.x[0], Math.fround(pixel(split, 10, 0, 0, 0)));

    const nhwc = [...testBatches(split, 10, 'NHWC')];
    assert.equal(nhwc[2]!.x[2 * IMAGE_BYTES + (5 * 32 + 6) * 3 + 1], last.x[2 * IMAGE_BYTES + 1024 + 5 * 32 + 6]);
    assert.deepEqual([...testBatches(split, 23, 'NCHW')].map((batch) => batch.count), [23]);
  });
});

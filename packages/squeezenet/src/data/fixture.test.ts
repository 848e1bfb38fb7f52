import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_FOLDER, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, concatSplits, readCifarBatchFile } from './cifar.js';
import { makeCifarFixture } from './fixture.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_PLANE, type Split } from './split.js';
import { extractTarGz, listFiles, makeTempDir } from './test-helpers.js';

function classCounts(split: Split): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of split.labels) counts[label]! += 1;
  return counts;
}

/** Mean colour per image: the simplest feature a model could learn the fixture's classes from. */
function meanColour(split: Split, i: number): number[] {
  return Array.from({ length: IMAGE_CHANNELS }, (_, c) => {
    let sum = 0;
    for (let p = 0; p < IMAGE_PLANE; p++) sum += split.images[i * IMAGE_BYTES + c * IMAGE_PLANE + p]!;
    return sum / IMAGE_PLANE;
  });
}

describe('data/fixture', function () {
  this.timeout(120_000);
  let root: string;
  before(() => {
    root = makeTempDir('fixture');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is byte-for-byte deterministic per seed and differs between seeds', async () => {
    const a = readFileSync(await makeCifarFixture(join(root, 'a'), { seed: 5, trainPerClass: 4, testPerClass: 2 }));
    const b = readFileSync(await makeCifarFixture(join(root, 'b'), { seed: 5, trainPerClass: 4, testPerClass: 2 }));
    const c = readFileSync(await makeCifarFixture(join(root, 'c'), { seed: 6, trainPerClass: 4, testPerClass: 2 }));
    assert.ok(a.equals(b));
    assert.ok(!a.equals(c));
    assert.deepEqual(listFiles(join(root, 'a')), ['cifar-10-binary.tar.gz'], 'no staging files left behind');
  });

  it('has the CIFAR-10 layout, with training records spread over five batches and learnable classes', async () => {
    const archive = await makeCifarFixture(join(root, 'layout'), { trainPerClass: 20, testPerClass: 10, seed: 3 });
    assert.equal(archive, join(root, 'layout', 'cifar-10-binary.tar.gz'));
    const extracted = join(root, 'layout-x');
    mkdirSync(extracted);
    await extractTarGz(archive, extracted);
    const folder = join(extracted, CIFAR10_FOLDER);
    assert.deepEqual(listFiles(folder), ['batches.meta.txt', ...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].sort());
    assert.match(readFileSync(join(folder, 'batches.meta.txt'), 'utf8'), /^airplane\nautomobile\n.*truck\n/s);

    const batches = CIFAR10_TRAIN_FILES.map((file) => readCifarBatchFile(join(folder, file)));
    assert.deepEqual(batches.map((batch) => batch.count), [40, 40, 40, 40, 40]);
    const train = concatSplits(batches);
    const test = readCifarBatchFile(join(folder, CIFAR10_TEST_FILE));
    assert.deepEqual(classCounts(train), new Array(10).fill(20));
    assert.deepEqual(classCounts(test), new Array(10).fill(10));
    assert.ok(new Set(batches[0]!.labels).size >= 5, 'classes are shuffled, not sorted');

    // Nearest class-mean colour already separates the classes, so a CNN certainly can.
    const centroids = Array.from({ length: 10 }, () => [0, 0, 0]);
    for (let i = 0; i < train.count; i++) meanColour(train, i).forEach((v, c) => (centroids[train.labels[i]!]![c]! += v / 20));
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      const colour = meanColour(test, i);
      const distances = centroids.map((centroid) => centroid.reduce((sum, v, c) => sum + (v - colour[c]!) ** 2, 0));
      if (distances.indexOf(Math.min(...distances)) === test.labels[i]) correct += 1;
    }
    assert.ok(correct / test.count >= 0.9, `nearest-centroid accuracy ${correct / test.count}`);
  });
});

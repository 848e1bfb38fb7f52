import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  concatSplits,
  encodeCifarBatch,
  parseCifarBatch,
  readCifarBatchFile,
} from './cifar.js';
import { DataError } from './errors.js';
import { IMAGE_BYTES } from './split.js';

/** Builds raw CIFAR records whose pixel bytes encode (record, offset) so misplacement shows. */
function records(labels: number[]): Uint8Array {
  const bytes = new Uint8Array(labels.length * CIFAR10_RECORD_BYTES);
  labels.forEach((label, i) => {
    bytes[i * CIFAR10_RECORD_BYTES] = label;
    for (let p = 0; p < IMAGE_BYTES; p++) bytes[i * CIFAR10_RECORD_BYTES + 1 + p] = (i * 31 + p * 7) % 256;
  });
  return bytes;
}

describe('data/cifar', () => {
  it('lists the ten CIFAR-10 classes in label order', () => {
    assert.deepEqual(CIFAR10_CLASSES, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });

  it('parses labels and CHW planes from records', () => {
    const split = parseCifarBatch(records([3, 0, 9]), 'x.bin');
    assert.equal(split.count, 3);
    assert.deepEqual([...split.labels], [3, 0, 9]);
    // Record 2: R plane starts right after the label, G plane 1024 bytes later, B 2048.
    assert.equal(split.images[2 * IMAGE_BYTES], (2 * 31) % 256);
    assert.equal(split.images[2 * IMAGE_BYTES + 1024], (2 * 31 + 1024 * 7) % 256);
    assert.equal(split.images[2 * IMAGE_BYTES + 3071], (2 * 31 + 3071 * 7) % 256);
  });

  it('round-trips through encodeCifarBatch', () => {
    const raw = records([1, 2, 8, 8]);
    assert.deepEqual(encodeCifarBatch(parseCifarBatch(raw, 'x.bin')), raw);
  });

  it('rejects a size that is not a whole number of records, naming the file', () => {
    const raw = records([1, 2]);
    assert.throws(
      () => parseCifarBatch(raw.subarray(0, raw.length - 5), 'data_batch_3.bin'),
      (error: unknown) => error instanceof DataError && /^data_batch_3\.bin: 6141 bytes is not a whole number of 3073-byte/.test(error.message),
    );
    assert.throws(() => parseCifarBatch(new Uint8Array(0), 'empty.bin'), /empty\.bin: 0 bytes/);
  });

  it('rejects labels above 9, naming the file and the record', () => {
    assert.throws(
      () => parseCifarBatch(records([1, 10]), 'test_batch.bin'),
      (error: unknown) => error instanceof DataError && /test_batch\.bin: record 1 has label 10/.test(error.message),
    );
  });

  it('reports a missing batch file as a DataError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'squeeze-cifar-'));
    try {
      writeFileSync(join(dir, 'present.bin'), records([4]));
      assert.equal(readCifarBatchFile(join(dir, 'present.bin')).labels[0], 4);
      assert.throws(
        () => readCifarBatchFile(join(dir, 'data_batch_2.bin'), 'archive.tar.gz:cifar-10-batches-bin/data_batch_2.bin'),
        (error: unknown) => error instanceof DataError && error.message.startsWith('archive.tar.gz:cifar-10-batches-bin/data_batch_2.bin: missing'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('concatenates splits in order', () => {
    const a = parseCifarBatch(records([1, 2]), 'a');
    const b = parseCifarBatch(records([7]), 'b');
    const joined = concatSplits([a, b]);
    assert.deepEqual([...joined.labels], [1, 2, 7]);
    assert.deepEqual(joined.images.subarray(2 * IMAGE_BYTES), b.images);
  });
});

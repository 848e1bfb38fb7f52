import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import CRC32 from 'crc-32';
import pngjs from 'pngjs';
import { CheckpointError, findLatestCheckpoint, readCheckpoint, writeCheckpoint, CHECKPOINT_DIR, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import {
  CIFAR10_RECORD_BYTES, DataError, IMAGE_BYTES, decodeImageFile, encodeCifarBatch, encodePngRgb, loadDataset, makeCifarFixture,
  parseCifarBatch, readDataFile, setupData, writeDataFile,
} from '../data/index.js';
import { makeTempDir } from '../data/test-helpers.js';
import { EXPORT_DIR, EXPORT_WEIGHTS, ExportError, readExport, readLabels } from '../export/save.js';
import { encodeSafetensors, readSafetensors, type SafetensorsTensor } from '../formats/index.js';
import { concat, fuzz, fuzzSeed, type Fuzzer } from './fuzzer.js';

/**
 * Every parser of user-supplied files, fed random and mutated inputs: each input is either
 * accepted with a result that is internally consistent, or rejected with the parser's documented
 * error class (DataError, CheckpointError, ExportError) — never a TypeError, a RangeError or a hang.
 * The safetensors container has its own fuzz test in formats/; here the checkpoint and export
 * readers on top of it are fuzzed, including their metadata.
 */
describe('reliability: parsers under random and mutated input', function () {
  this.timeout(120_000);
  let root: string;
  before(() => { root = makeTempDir('fuzz'); });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('CIFAR-10 batch records (parseCifarBatch)', async () => {
    const valid = encodeCifarBatch({
      count: 3, labels: Uint8Array.of(0, 9, 4), images: Uint8Array.from({ length: 3 * IMAGE_BYTES }, (_, i) => i % 251),
    });
    const tally = await fuzz('parseCifarBatch', { seed: fuzzSeed(0xc1fa), iterations: 3000, allowed: [DataError], caseTimeoutMs: 2000 }, (f) => {
      let input: Uint8Array;
      switch (f.int(3)) {
        case 0:
          input = f.bytes(f.pick([0, 1, CIFAR10_RECORD_BYTES - 1, CIFAR10_RECORD_BYTES, CIFAR10_RECORD_BYTES + 1, 2 * CIFAR10_RECORD_BYTES, f.int(8000)]));
          break;
        case 1:
          input = f.mutate(valid);
          break;
        default:
          input = Uint8Array.from(valid);
          input[CIFAR10_RECORD_BYTES * f.int(3)] = f.int(256); // a label byte
      }
      const split = parseCifarBatch(input, 'fuzz.bin');
      assert.equal(split.count * CIFAR10_RECORD_BYTES, input.length);
      assert.equal(split.images.length, split.count * IMAGE_BYTES);
      assert.ok(split.labels.every((l) => l < 10));
    });
    assert.ok(tally.accepted > 100 && tally.rejected > 1000, JSON.stringify(tally));
  });

  it('prepared split files (readDataFile)', async () => {
    const file = path.join(root, 'split.bin');
    writeDataFile(file, { count: 2, labels: Uint8Array.of(3, 7), images: Uint8Array.from({ length: 2 * IMAGE_BYTES }, (_, i) => i % 13) });
    const valid = fs.readFileSync(file);
    const mutated = path.join(root, 'mutated-split.bin');
    const tally = await fuzz('readDataFile', { seed: fuzzSeed(0xda7a), iterations: 1500, allowed: [DataError], caseTimeoutMs: 2000 }, (f) => {
      const input = f.chance(0.8) ? f.mutate(valid) : headerEdit(f, valid);
      fs.writeFileSync(mutated, input);
      const split = readDataFile(mutated, 'run squeeze setup');
      assert.equal(split.images.length, split.count * IMAGE_BYTES);
    });
    assert.ok(tally.rejected > 1000, JSON.stringify(tally));
  });

  it('archives given to setup (setupData --from a mutated .tar.gz)', async () => {
    const archive = await makeCifarFixture(path.join(root, 'fixture'), { trainPerClass: 1, testPerClass: 1 });
    const gz = fs.readFileSync(archive);
    const tarBytes = gunzipSync(gz);
    const mutatedArchive = path.join(root, 'mutated.tar.gz');
    let caseNumber = 0;
    const tally = await fuzz('setupData', { seed: fuzzSeed(0x7a9), iterations: 200, allowed: [DataError], caseTimeoutMs: 20_000 }, async (f) => {
      const kind = f.int(3);
      const input = kind === 0 ? f.mutate(gz) : gzipSync(kind === 1 ? mutateTarHeader(f, tarBytes) : f.mutate(tarBytes));
      fs.writeFileSync(mutatedArchive, input);
      const dataDir = path.join(root, `setup-${caseNumber++}`);
      try {
        await setupData({ dataDir, from: mutatedArchive, download: false, progress: false, log: () => {} });
      } catch (error) {
        // A failed setup never leaves a set that looks prepared.
        assert.ok(!fs.existsSync(path.join(dataDir, 'cifar10', 'meta.json')), 'meta.json after a failed setup');
        throw error;
      } finally {
        assert.ok(!fs.existsSync(path.join(dataDir, '.cifar10-extract')), 'extraction folder left behind');
      }
      const loaded = loadDataset(dataDir);
      assert.equal(loaded.train.images.length, loaded.train.count * IMAGE_BYTES);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    assert.ok(tally.rejected > 100, JSON.stringify(tally));
  });

  it('PNG images (decodeImageFile), with and without fixed-up chunk CRCs', async () => {
    const bases = pngBases();
    const file = path.join(root, 'fuzz.png');
    const tally = await fuzz('decodeImageFile', { seed: fuzzSeed(0x9e6), iterations: 1500, allowed: [DataError], caseTimeoutMs: 5000 }, (f) => {
      const base = f.pick(bases);
      const input = f.chance(0.3) ? f.mutate(base) : mutatePngChunk(f, base);
      fs.writeFileSync(file, input);
      const image = decodeImageFile(file);
      assert.equal(image.rgb.length, IMAGE_BYTES);
      assert.ok(image.sourceWidth >= 1 && image.sourceHeight >= 1, `${image.sourceWidth}×${image.sourceHeight}`);
      assert.ok(image.rgb.every((v) => v >= 0 && v <= 1), 'pixel values in [0, 1]');
    });
    assert.ok(tally.accepted > 50 && tally.rejected > 500, JSON.stringify(tally));
  });

  it('training checkpoints (readCheckpoint, findLatestCheckpoint), metadata included', async () => {
    const modelDir = path.join(root, 'ckpt');
    writeCheckpoint(modelDir, checkpointContent(), 1);
    const dir = path.join(modelDir, CHECKPOINT_DIR);
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.safetensors'))!);
    const valid = fs.readFileSync(file);
    const parsed = readSafetensors(valid);
    const tally = await fuzz('readCheckpoint', { seed: fuzzSeed(0xc4e), iterations: 1500, allowed: [CheckpointError], caseTimeoutMs: 2000 }, (f) => {
      let input: Uint8Array;
      switch (f.int(3)) {
        case 0:
          input = f.mutate(valid);
          break;
        case 1:
          input = encodeSafetensors(parsed.tensors, { squeeze: JSON.stringify(mutateJson(f, checkpointContent().meta)) });
          break;
        default:
          input = encodeSafetensors(retypeTensor(f, parsed.tensors), f.chance(0.8) ? parsed.metadata : {});
      }
      fs.writeFileSync(file, input);
      const c = readCheckpoint(file);
      assertUsableMeta(c.meta);
      for (const t of [...Object.values(c.model), ...Object.values(c.optimizer)]) assert.ok(t.data instanceof Float32Array);
      assert.equal(findLatestCheckpoint(modelDir)?.path, file);
    });
    assert.ok(tally.accepted > 50 && tally.rejected > 500, JSON.stringify(tally));
  });

  it('exported models (readExport)', async () => {
    const modelDir = path.join(root, 'export');
    const file = path.join(modelDir, EXPORT_DIR, EXPORT_WEIGHTS);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const meta = { architecture: 'squeezenet_cifar', dataFormat: 'NCHW', classes: ['cat', 'dog'], step: 3, dataset: 'cifar10' };
    const tensors = { 'conv10.bias': { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } } satisfies Record<string, SafetensorsTensor>;
    const valid = encodeSafetensors(tensors, { squeeze: JSON.stringify(meta), format: 'pt' });
    const tally = await fuzz('readExport', { seed: fuzzSeed(0xe4), iterations: 1000, allowed: [ExportError], caseTimeoutMs: 2000 }, (f) => {
      const input = f.chance(0.5) ? f.mutate(valid) : encodeSafetensors(tensors, { squeeze: JSON.stringify(mutateJson(f, meta)) });
      fs.writeFileSync(file, input);
      const loaded = readExport(modelDir);
      assert.ok(Array.isArray(loaded.meta.classes) && loaded.meta.classes.length > 0, 'classes');
      assert.ok(loaded.meta.classes.every((c) => typeof c === 'string'), 'class names');
    });
    assert.ok(tally.accepted > 20 && tally.rejected > 300, JSON.stringify(tally));
  });

  it('labels files (readLabels)', async () => {
    const file = path.join(root, 'labels.txt');
    const valid = Buffer.from('0:airplane\n1:automobile\n2:bird\n');
    const pieces = ['0', '1', '2', '9', '10', '-1', '01', '1e3', ':', '::', 'cat', ' ', '\t', '\n', '\r\n', '\r', '\u00e9', '\ufeff', '\0', '\ud800'];
    const tally = await fuzz('readLabels', { seed: fuzzSeed(0x1abe1), iterations: 3000, allowed: [ExportError], caseTimeoutMs: 2000 }, (f) => {
      const input = f.chance(0.5) ? f.mutate(valid) : Buffer.from(Array.from({ length: f.int(30) }, () => f.pick(pieces)).join(''));
      fs.writeFileSync(file, input);
      const labels = readLabels(file);
      assert.ok(labels.length > 0 && labels.every((l) => typeof l === 'string' && l.length > 0));
    });
    assert.ok(tally.accepted > 100 && tally.rejected > 1000, JSON.stringify(tally));
  });

  it('missing files are reported by the same error classes', () => {
    const missing = path.join(root, 'does-not-exist');
    assert.throws(() => readCheckpoint(path.join(missing, 'model.ckpt-000001.safetensors')), CheckpointError);
    assert.throws(() => readLabels(path.join(missing, 'labels.txt')), ExportError);
    assert.throws(() => readExport(missing), ExportError);
    assert.throws(() => decodeImageFile(path.join(missing, 'a.png')), DataError);
    assert.throws(() => readDataFile(path.join(missing, 'train.bin'), 'run squeeze setup'), DataError);
    assert.throws(() => loadDataset(missing), DataError);
    assert.equal(findLatestCheckpoint(missing), null);
  });
});

/** The metadata fields that training, resuming and export read must have the right types. */
function assertUsableMeta(meta: CheckpointMeta): void {
  const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  assert.ok(isCount(meta.globalStep), 'globalStep');
  assert.equal(typeof meta.architecture, 'string');
  assert.ok(meta.dataFormat === 'NCHW' || meta.dataFormat === 'NHWC', 'dataFormat');
  assert.ok(Number.isSafeInteger(meta.dataOrder.seed) && isCount(meta.dataOrder.epoch) && isCount(meta.dataOrder.position), 'dataOrder');
  assert.equal(typeof meta.dataset, 'string');
  assert.ok(Array.isArray(meta.classes) && meta.classes.every((c) => typeof c === 'string'), 'classes');
  assert.ok(isCount(meta.optimizer.step), 'optimizer.step');
}

function checkpointContent() {
  const meta: CheckpointMeta = {
    architecture: 'squeezenet_cifar', globalStep: 7, dataFormat: 'NCHW', seed: 1, dataOrder: { seed: 1, epoch: 0, position: 7 },
    dataset: 'cifar10', classes: ['cat', 'dog'], optimizer: { name: 'adam', step: 7 },
  };
  return {
    meta,
    model: { 'conv.weight': { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } },
    optimizer: { 'exp_avg.conv.weight': { shape: [2, 2], data: Float32Array.of(0, 0, 0, 1) } },
  };
}

/** Deletes, replaces or adds one field somewhere in a JSON value (or replaces the whole value). */
function mutateJson(f: Fuzzer, value: unknown): unknown {
  if (f.chance(0.05)) return f.weirdValue();
  const copy = structuredClone(value) as Record<string, unknown>;
  let target = copy;
  // Walk into nested objects now and then (dataOrder, optimizer, classes).
  for (let depth = 0; depth < 2 && f.chance(0.4); depth++) {
    const nested = Object.values(target).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
    if (nested.length === 0) break;
    target = f.pick(nested);
  }
  const keys = Object.keys(target);
  const key = f.chance(0.9) && keys.length > 0 ? f.pick(keys) : 'extra';
  if (f.chance(0.3)) delete target[key];
  else target[key] = f.weirdValue();
  return copy;
}

/** The same tensors with one of them stored under another dtype (same bytes, reinterpreted). */
function retypeTensor(f: Fuzzer, tensors: Record<string, SafetensorsTensor>): Record<string, SafetensorsTensor> {
  const out = { ...tensors };
  const name = f.pick(Object.keys(out));
  const t = out[name]!;
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  out[name] = f.pick<SafetensorsTensor>([
    { dtype: 'I32', shape: t.shape, data: new Int32Array(bytes.slice().buffer) },
    { dtype: 'U8', shape: [bytes.length], data: bytes.slice() },
    { dtype: 'F64', shape: [bytes.length / 8], data: new Float64Array(bytes.slice().buffer) },
  ]);
  return out;
}

/** Rewrites one field of the prepared-file header (magic, count, shape, CRC) with a boundary value. */
function headerEdit(f: Fuzzer, valid: Uint8Array): Uint8Array {
  const out = Buffer.from(valid);
  const field = f.pick([0, 4, 8, 12, 16, 20, 24]);
  out.writeUInt32LE(f.pick([0, 1, 2, 3, 32, 0x7fffffff, 0xffffffff, f.int(2 ** 32)]), field);
  return out;
}

const TAR_BLOCK = 512;

/**
 * Rewrites one field (name, mode, size, type, link name) of one tar header and recomputes the
 * header checksum, so the edit gets past tar's integrity check and into the extractor.
 */
function mutateTarHeader(f: Fuzzer, tarBytes: Uint8Array): Uint8Array {
  const out = Buffer.from(tarBytes);
  const headers: number[] = [];
  for (let at = 0; at + TAR_BLOCK <= out.length && out[at] !== 0;) {
    headers.push(at);
    const size = parseInt(out.toString('latin1', at + 124, at + 136).replace(/\0.*$/, '').trim() || '0', 8);
    at += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  const at = f.pick(headers);
  const field = f.pick([
    { offset: 0, length: 100, values: ['cifar-10-batches-bin/data_batch_1.bin', '../escape.bin', '/abs.bin', 'cifar-10-batches-bin', 'x'] },
    { offset: 100, length: 8, values: ['0000000', '0000777', '7777777'] },
    { offset: 124, length: 12, values: ['00000000000', '77777777777', '00000000001', '00000030002', '00000014005'] },
    { offset: 156, length: 1, values: ['0', '1', '2', '5', 'L', 'x', '\0'] },
    { offset: 157, length: 100, values: ['/etc/hostname', '../../etc/hostname', 'cifar-10-batches-bin/test_batch.bin'] },
  ]);
  const text = Buffer.alloc(field.length);
  text.write(f.pick(field.values), 'latin1');
  text.copy(out, at + field.offset);
  out.fill(0x20, at + 148, at + 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (let i = at; i < at + TAR_BLOCK; i++) sum += out[i]!;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  return out;
}

/** Valid PNGs of several colour types and bit depths (the shapes decodeImageFile accepts). */
function pngBases(): Uint8Array[] {
  const rgb = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256);
  const bases: Uint8Array[] = [encodePngRgb(32, 32, rgb), encodePngRgb(5, 3, rgb.subarray(0, 45))];
  for (const [colorType, bitDepth] of [[0, 8], [4, 8], [6, 8], [6, 16], [2, 16]] as const) {
    const image = new pngjs.PNG({ width: 7, height: 4 });
    for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37) % 256;
    bases.push(pngjs.PNG.sync.write(image, { colorType, bitDepth, inputHasAlpha: true }));
  }
  return bases;
}

interface PngChunk { type: string; data: Uint8Array }

/**
 * Edits one chunk of a PNG and recomputes its CRC (so the edit reaches the decoder): IHDR fields
 * (size, bit depth, colour type, interlace) set to boundary values, or the chunk's data mutated —
 * for IDAT, inflated first so the scanline filters get bad bytes rather than zlib.
 */
function mutatePngChunk(f: Fuzzer, png: Uint8Array): Uint8Array {
  const chunks: PngChunk[] = [];
  const bytes = Buffer.from(png);
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    chunks.push({ type: bytes.toString('latin1', at + 4, at + 8), data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  const index = f.int(chunks.length);
  const chunk = chunks[index]!;
  let data: Uint8Array;
  if (chunk.type === 'IHDR' && f.chance(0.7)) {
    const header = Buffer.from(chunk.data);
    const field = f.pick([0, 4, 8, 9, 10, 11, 12]);
    if (field < 8) header.writeUInt32BE(f.pick([0, 1, 2, 31, 33, 0x7fffffff, 0xffffffff, 65536, 100_000]), field);
    else header[field] = f.pick([0, 1, 2, 3, 4, 6, 7, 8, 16, 255]);
    data = header;
  } else if (chunk.type === 'IDAT' && f.chance(0.7)) {
    data = deflateSync(f.mutate(inflateSync(chunk.data))); // the bases have one IDAT each
  } else {
    data = f.mutate(chunk.data);
  }
  if (f.chance(0.1)) chunks.splice(index, 1);
  else chunks[index] = { type: chunk.type, data };
  return concat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks.map(encodeChunk));
}

function encodeChunk(c: PngChunk): Uint8Array {
  const out = Buffer.alloc(12 + c.data.length);
  out.writeUInt32BE(c.data.length, 0);
  out.write(c.type, 4, 'latin1');
  out.set(c.data, 8);
  out.writeUInt32BE(CRC32.buf(out.subarray(4, 8 + c.data.length)) >>> 0, 8 + c.data.length);
  return out;
}

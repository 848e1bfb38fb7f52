import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKPOINT_DIR, CHECKPOINT_INDEX, CheckpointError, findLatestCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { collectLog, makeTempDir } from '../data/test-helpers.js';
import { EXPORT_DIR, EXPORT_LABELS, EXPORT_WEIGHTS, ExportError, readExport, saveModel } from '../export/save.js';
import { squeezeNetStateShapes } from '../export/shapes.js';
import { encodeSafetensors, readSafetensors, FormatError } from '../formats/index.js';
import { acquireLock, LockError } from './lock.js';
import { isError, lockHolder, snapshot } from './test-helpers.js';

/**
 * The second round of reliability guarantees (docs/reliability.md), checked on the library without
 * a GPU: folder locks, poisoned (non-finite) state, checkpoint and export validation, bounded reads
 * in setup, download timeouts. The CLI side is in packages/cli/src/reliability-guards.test.ts.
 */

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A complete SqueezeNet checkpoint made on the CPU (small random weights), as training writes one. */
function modelCheckpoint(step: number, classes = CLASSES) {
  const model: Record<string, { shape: number[]; data: Float32Array }> = {};
  let seed = step + 1;
  for (const [name, shape] of Object.entries(squeezeNetStateShapes(classes.length))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; data[i] = (seed / 2 ** 32 - 0.5) * 0.1; }
    model[name] = { shape, data };
  }
  const meta: CheckpointMeta = {
    architecture: 'squeezenet_cifar', globalStep: step, dataFormat: 'NCHW', seed: 1, dataOrder: { seed: 1, epoch: 0, position: 0 },
    dataset: 'cifar10', classes, optimizer: { name: 'adam', step },
  };
  return { meta, model, optimizer: { 'exp_avg.conv1.weight': { shape: [1], data: Float32Array.of(0) } } };
}

describe('reliability: folder locks', function () {
  // Each case starts a Node process or two: seconds on a loaded machine.
  this.timeout(120_000);
  let root: string;
  beforeEach(() => { root = makeTempDir('locks'); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a second writer gets one line naming the folder and the holder\'s PID; the holder\'s folder is untouched', async () => {
    const holder = await lockHolder(root);
    try {
      const before = snapshot(root);
      assert.throws(() => acquireLock(root, 'model', { role: '--model_dir' }), isError(LockError, new RegExp(`^${root}: in use by another squeeze \\(PID ${holder.pid}\\b.*use another --model_dir$`)));
      assert.equal(snapshot(root), before);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`a holder stopped by ${signal} releases its lock`, async () => {
      const holder = await lockHolder(root);
      const exited = new Promise((resolve) => holder.on('exit', (_code, sig) => resolve(sig)));
      holder.kill(signal);
      assert.equal(await exited, signal, 'it still dies of the signal');
      assert.deepEqual(fs.readdirSync(root), [], 'no lock file is left');
      const release = acquireLock(root, 'model', { role: '--model_dir' });
      release();
    });
  }

  it('the lock of a SIGKILLed holder is stale: taken over with one line', async () => {
    const holder = await lockHolder(root);
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    assert.equal(fs.readdirSync(root).length, 1, 'the killed holder left its lock');
    const { lines, log } = collectLog();
    const release = acquireLock(root, 'model', { role: '--model_dir', info: log });
    assert.deepEqual(lines, [`${root}: taking over the lock of PID ${holder.pid}, which is no longer running`]);
    release();
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('re-entrant within a process; released when the last holder releases', () => {
    const a = acquireLock(root, 'model', { role: '--model_dir' });
    const b = acquireLock(root, 'model', { role: '--model_dir' });
    b();
    assert.equal(fs.readdirSync(root).length, 1);
    a();
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('a folder that is a file, or on a read-only file system: one line naming it and the flag', () => {
    const file = path.join(root, 'model');
    fs.writeFileSync(file, 'x');
    assert.throws(() => acquireLock(file, 'model', { role: '--model_dir' }), isError(LockError, /model: is a file, not a folder; pass a folder as --model_dir/));
    assert.throws(() => acquireLock(path.join(file, 'sub'), 'model', { role: '--model_dir' }), isError(LockError, /model\/sub: a file is in the way of this folder/));
    const ro = path.join(root, 'ro');
    fs.mkdirSync(ro);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], { stdio: 'ignore' });
    } catch {
      return; // mounting needs root; the file cases above still ran
    }
    try {
      assert.throws(() => acquireLock(path.join(ro, 'model'), 'model', { role: '--model_dir' }), isError(LockError, /ro\/model: cannot be written \(read-only file system, E(ROFS|NOENT)\); pass a writable folder as --model_dir/));
      assert.throws(() => acquireLock(ro, 'data', { role: '--data_dir' }), isError(LockError, /ro: cannot be written \(read-only file system, EROFS\); pass a writable folder as --data_dir/));
    } finally {
      execFileSync('umount', [ro]);
    }
  });
});

describe('reliability: poisoned and implausible checkpoints', () => {
  let root: string;
  beforeEach(() => { root = makeTempDir('poison'); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const ckptPath = (step: number): string => path.join(root, CHECKPOINT_DIR, `model.ckpt-${String(step).padStart(6, '0')}.safetensors`);

  it('a checkpoint holding NaN is never written', () => {
    const c = modelCheckpoint(3);
    c.model['conv1.weight']!.data[5] = NaN;
    assert.throws(() => writeCheckpoint(root, c, 3), isError(CheckpointError, /model\.ckpt-000003\.safetensors: not written: tensor 'conv1\.weight' holds NaN at index 5/));
    assert.ok(!fs.existsSync(ckptPath(3)));
  });

  it('a checkpoint holding NaN or ∞ (written by hand) is corrupt: resuming falls back to the newest finite one with one warning', () => {
    writeCheckpoint(root, modelCheckpoint(1), 3);
    writeCheckpoint(root, modelCheckpoint(2), 3);
    for (const [value, tensor] of [[NaN, 'conv1.weight'], [Infinity, 'optimizer.exp_avg.conv1.weight']] as const) {
      writeCheckpoint(root, modelCheckpoint(2), 3);
      const st = readSafetensors(ckptPath(2));
      (st.tensors[tensor]!.data as Float32Array)[0] = value;
      fs.writeFileSync(ckptPath(2), encodeSafetensors(st.tensors, st.metadata));
      assert.throws(() => readCheckpoint(ckptPath(2)), isError(CheckpointError, new RegExp(`tensor '${tensor.replace(/\./g, '\\.')}' holds ${value} at index 0 \\(poisoned\\)`)));
      const { lines, log } = collectLog();
      assert.equal(findLatestCheckpoint(root, log)!.meta.globalStep, 1);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /^skipping .*model\.ckpt-000002\.safetensors: tensor .* holds/);
    }
  });

  it('metadata with an implausible step (1e9, or not matching the optimizer or the file name) is corrupt, not "already complete"', () => {
    writeCheckpoint(root, modelCheckpoint(2), 3);
    for (const edit of [{ globalStep: 1e9 }, { globalStep: 1e9, optimizer: { name: 'adam', step: 1e9 } }, { globalStep: 7, optimizer: { name: 'adam', step: 7 } }]) {
      const st = readSafetensors(ckptPath(2));
      const meta = { ...JSON.parse(st.metadata['squeeze']!), ...edit };
      fs.writeFileSync(ckptPath(2), encodeSafetensors(st.tensors, { squeeze: JSON.stringify(meta) }));
      assert.throws(() => readCheckpoint(ckptPath(2)), isError(CheckpointError, /model\.ckpt-000002\.safetensors: checkpoint metadata is corrupt \(step \d+/));
    }
  });

  it('a garbage checkpoint.json never makes a write delete older checkpoints; the index is rebuilt from the files', () => {
    for (const s of [1, 2, 3]) writeCheckpoint(root, modelCheckpoint(s), 3);
    fs.writeFileSync(path.join(root, CHECKPOINT_DIR, CHECKPOINT_INDEX), '{"latest": 5, "kept": "garbage"');
    writeCheckpoint(root, modelCheckpoint(4), 3);
    const files = fs.readdirSync(path.join(root, CHECKPOINT_DIR)).filter((f) => f.endsWith('.safetensors')).sort();
    assert.deepEqual(files, ['model.ckpt-000002.safetensors', 'model.ckpt-000003.safetensors', 'model.ckpt-000004.safetensors']);
    const index = JSON.parse(fs.readFileSync(path.join(root, CHECKPOINT_DIR, CHECKPOINT_INDEX), 'utf8')) as { latest: string; kept: string[] };
    assert.deepEqual(index, { latest: 'model.ckpt-000004.safetensors', kept: files });
  });

  it('reads check sizes in the header first: a 1.9 GB junk file is refused from its first bytes; a FIFO is refused unopened', () => {
    const junk = path.join(root, 'junk.safetensors');
    const fd = fs.openSync(junk, 'w');
    const header = Buffer.from('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    fs.writeSync(fd, Buffer.concat([length, header]));
    fs.ftruncateSync(fd, 1_900_000_000); // sparse: nothing of it is on disk
    fs.closeSync(fd);
    const heapBefore = process.memoryUsage().arrayBuffers;
    assert.throws(() => readSafetensors(junk), isError(FormatError, /junk\.safetensors: invalid safetensors: file is 1900000000 bytes but its header describes 66 \(trailing data\)/));
    assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 100_000_000, 'the body was not read');
    const fifo = path.join(root, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readSafetensors(fifo), isError(FormatError, /fifo\.safetensors: invalid safetensors: not a regular file/));
  });
});

describe('reliability: save writes only what predict accepts, atomically', function () {
  this.timeout(120_000);
  let root: string;
  beforeEach(() => { root = makeTempDir('save'); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('refuses a checkpoint with a missing, extra or misshapen tensor, or a bad class list, in one line, writing nothing', () => {
    const cases: Array<[(c: ReturnType<typeof modelCheckpoint>) => void, RegExp]> = [
      [(c) => { delete c.model['fire5.expand3x3.weight']; }, /tensor 'fire5\.expand3x3\.weight' is missing/],
      [(c) => { c.model['conv1.weight'] = { shape: [96, 3, 3, 3], data: new Float32Array(96 * 27) }; }, /tensor 'conv1\.weight' has shape \[96,3,3,3\], the model needs \[96,3,2,2\]/],
      [(c) => { c.model['extra.weight'] = { shape: [1], data: Float32Array.of(1) }; }, /tensor 'extra\.weight' is not part of the model/],
      [(c) => { c.meta.classes = CLASSES.slice(0, 9); }, /tensor 'conv10\.weight' has shape \[10,512,1,1\], the model needs \[9,512,1,1\]/],
      [(c) => { c.meta.classes = [...CLASSES.slice(0, 9), 'two\nlines']; }, /class 9 \("two\\nlines"\) is empty or holds a line break/],
    ];
    for (const [damage, mention] of cases) {
      fs.rmSync(root, { recursive: true, force: true });
      const c = modelCheckpoint(5);
      damage(c);
      writeCheckpoint(root, c, 3);
      const before = snapshot(root);
      assert.throws(() => saveModel(root), isError(ExportError, new RegExp(`model\\.ckpt-000005\\.safetensors: cannot be exported: ${mention.source}`)));
      assert.equal(snapshot(root), before);
    }
  });

  it('an export holding NaN is refused by predict\'s reader', () => {
    writeCheckpoint(root, modelCheckpoint(5), 3);
    saveModel(root);
    const file = path.join(root, EXPORT_DIR, EXPORT_WEIGHTS);
    const st = readSafetensors(file);
    (st.tensors['conv10.bias']!.data as Float32Array)[3] = NaN;
    fs.writeFileSync(file, encodeSafetensors(st.tensors, st.metadata));
    assert.throws(() => readExport(root), isError(ExportError, /squeezenet\.safetensors: tensor 'conv10\.bias' holds NaN \(poisoned\)/));
  });

  it('a full disk during save leaves the previous export intact and names the file (ENOSPC)', function () {
    const disk = path.join(root, 'disk');
    fs.mkdirSync(disk);
    try {
      // A checkpoint (3 MB) and one export (6 MB) fit; a second export beside the first does not.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=14m', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      this.skip(); // mounting a small file system needs root
    }
    try {
      writeCheckpoint(disk, modelCheckpoint(5), 3);
      saveModel(disk);
      const before = snapshot(path.join(disk, EXPORT_DIR));
      writeCheckpoint(disk, { ...modelCheckpoint(6) }, 1);
      assert.throws(() => saveModel(disk), isError(ExportError, /disk\/models\.tmp-[^:]*\/squeezenet\.(safetensors|onnx): no space left on device \(ENOSPC\); the previous export in .*disk\/models is unchanged/));
      assert.equal(snapshot(path.join(disk, EXPORT_DIR)), before);
      assert.deepEqual(fs.readdirSync(disk).sort(), ['checkpoints', 'models'], 'no temp folder or lock is left');
      assert.equal(readExport(disk).meta.step, 5);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  it('labels.txt of the export reads back exactly the class list', () => {
    writeCheckpoint(root, modelCheckpoint(5), 3);
    saveModel(root);
    assert.equal(fs.readFileSync(path.join(root, EXPORT_DIR, EXPORT_LABELS), 'utf8'), CLASSES.map((c, i) => `${i}:${c}\n`).join(''));
  });
});


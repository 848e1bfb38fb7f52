import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { CHECKPOINT_DIR, CHECKPOINT_INDEX, CheckpointError, findLatestCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointMeta } from '../checkpoint/checkpoint.js';
import { CIFAR10_FOLDER, CIFAR10_TRAIN_FILES } from '../data/cifar.js';
import { loadDataset } from '../data/dataset.js';
import { writeDataFile } from '../data/datafile.js';
import { downloadCifar10 } from '../data/download.js';
import { DataError } from '../data/errors.js';
import { makeCifarFixture } from '../data/fixture.js';
import { setupData } from '../data/setup.js';
import { collectLog, makeTempDir } from '../data/test-helpers.js';
import { EXPORT_DIR, EXPORT_LABELS, EXPORT_WEIGHTS, ExportError, readExport, saveModel } from '../export/save.js';
import { squeezeNetStateShapes } from '../export/shapes.js';
import { encodeSafetensors, readSafetensors, FormatError } from '../formats/index.js';
import { acquireLock, LockError } from './lock.js';

/**
 * The second round of reliability guarantees (docs/reliability.md), checked on the library without
 * a GPU: folder locks, poisoned (non-finite) state, checkpoint and export validation, bounded reads
 * in setup, download timeouts. The CLI side is in packages/cli/src/reliability-guards.test.ts.
 */

const LOCK_JS = fileURLToPath(new URL('./lock.js', import.meta.url));
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function isError(kind: new (...args: never[]) => Error, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${(e as Error)?.stack}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  };
}

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

/** Every file (path and bytes) under `dir`, to prove nothing changed. */
function snapshot(dir: string): string {
  if (!fs.existsSync(dir)) return 'absent';
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
    const full = path.join(dir, f);
    return `${f}:${fs.statSync(full).isFile() ? fs.readFileSync(full).toString('base64') : 'dir'}`;
  }).join('\n');
}

/** A node process that takes the lock on `dir` and waits (resolves once it holds it). */
async function lockHolder(dir: string, kind = 'model', role = '--model_dir'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { acquireLock } = await import(${JSON.stringify(LOCK_JS)}); acquireLock(${JSON.stringify(dir)}, '${kind}', { role: '${role}' }); console.log('locked'); setInterval(() => {}, 1000);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (s: Buffer) => { if (s.toString().includes('locked')) resolve(); });
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

/** A .tar.gz of `entries` filled with zeros, streamed (never on disk unpacked): a decompression bomb. */
async function zeroTarGz(file: string, entries: Array<{ name: string; size: number }>): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const done = pipeline(gzip, fs.createWriteStream(file));
  const write = (b: Buffer): Promise<void> => new Promise((resolve) => { if (gzip.write(b)) resolve(); else gzip.once('drain', resolve); });
  const chunk = Buffer.alloc(1 << 20);
  for (const { name, size } of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124); h.write('00000000000\0', 136);
    h.write('        ', 148); h.write('0', 156); h.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    await write(h);
    for (let left = size; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)));
  }
  await write(Buffer.alloc(1024));
  gzip.end();
  await done;
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

describe('reliability: setup reads only what it expects, bounded', function () {
  this.timeout(120_000);
  let root: string;
  let archive: string;
  let batches: string;
  before(async () => {
    root = makeTempDir('bounded');
    archive = await makeCifarFixture(path.join(root, 'source'), { trainPerClass: 2, testPerClass: 1 });
    batches = path.join(root, 'batches');
    fs.mkdirSync(batches);
    await tar.x({ file: archive, cwd: batches });
    batches = path.join(batches, CIFAR10_FOLDER);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A prepared set in `dataDir`, then a failing setup: one DataError line, the set as it was. */
  async function assertRefusedKeepingOldSet(name: string, from: string, mention: RegExp, dataset: 'cifar10' | 'fashion-mnist' = 'cifar10'): Promise<void> {
    const dataDir = path.join(root, `data-${name}`);
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
    const before = snapshot(dataDir);
    // Another --limit: the prepared set does not do, so setup reads the source.
    await assert.rejects(setupData({ dataDir, dataset, from, progress: false, log: () => {}, limit: 5 }), isError(DataError, mention));
    assert.equal(snapshot(dataDir), before, 'the old set is intact');
    assert.equal(loadDataset(dataDir, 'cifar10').train.count, 20);
  }

  it('an archive unpacking to more than the bound (30 × 30 MB entries in 1 MB) is stopped while it inflates', async () => {
    const bomb = path.join(root, 'bomb.tar.gz');
    await zeroTarGz(bomb, Array.from({ length: 30 }, (_, i) => ({ name: `elsewhere/d${i}/data_batch_1.bin`, size: 30_000_000 })));
    assert.ok(fs.statSync(bomb).size < 5_000_000);
    await assertRefusedKeepingOldSet('bomb', bomb, /bomb\.tar\.gz: unpacks to more than 400000000 bytes/);
  });

  it('only the exact archive paths are extracted: a wanted name in another folder is ignored, a repeated entry refused', async () => {
    const evil = path.join(root, 'evil');
    fs.mkdirSync(path.join(evil, 'elsewhere'), { recursive: true });
    fs.cpSync(batches, path.join(evil, CIFAR10_FOLDER), { recursive: true });
    fs.writeFileSync(path.join(evil, 'elsewhere', 'data_batch_1.bin'), Buffer.alloc(3073 * 7));
    const misplaced = path.join(root, 'misplaced.tar.gz');
    await tar.c({ gzip: true, file: misplaced, cwd: evil }, ['elsewhere', CIFAR10_FOLDER]);
    const r = await setupData({ dataDir: path.join(root, 'data-misplaced'), from: misplaced, progress: false, log: () => {} });
    assert.equal(r.trainCount, 20, 'only cifar-10-batches-bin/ was read');
    const twice = path.join(root, 'twice.tar');
    await tar.c({ file: twice, cwd: path.dirname(batches) }, [CIFAR10_FOLDER, `${CIFAR10_FOLDER}/data_batch_2.bin`]);
    await assertRefusedKeepingOldSet('twice', twice, /twice\.tar: entry cifar-10-batches-bin\/data_batch_2\.bin appears more than once/);
  });

  it('a FIFO, a link to /dev/zero, an oversized file: refused before reading, the old set intact', async () => {
    for (const [name, make, mention] of [
      ['fifo', (f: string) => execFileSync('mkfifo', [f]), /data_batch_1\.bin: not a regular file \(a FIFO\)/],
      ['zero', (f: string) => fs.symlinkSync('/dev/zero', f), /data_batch_1\.bin: not a regular file \(a device\)/],
      ['big', (f: string) => fs.truncateSync(f, 40_000_000), /data_batch_1\.bin: 40000000 bytes is more than/],
    ] as const) {
      const folder = path.join(root, `folder-${name}`);
      fs.cpSync(batches, folder, { recursive: true });
      const file = path.join(folder, CIFAR10_TRAIN_FILES[0]!);
      if (name !== 'big') fs.rmSync(file);
      make(file);
      await assertRefusedKeepingOldSet(name, folder, mention);
    }
  });

  it('Fashion-MNIST: a gzip bomb is stopped while it inflates; idx files of 0 images and bad labels are refused, the old set intact', async () => {
    const idx = (magic: number, dims: number[], body: Uint8Array): Buffer => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([header, body]);
    };
    const fashion = (name: string, images: number, labels: Uint8Array, bomb = false): string => {
      const dir = path.join(root, `fashion-${name}`);
      fs.mkdirSync(dir, { recursive: true });
      for (const split of ['train', 't10k']) {
        const imageBytes = bomb && split === 'train' ? gzipSync(Buffer.alloc(200_000_000), { level: 9 }) : gzipSync(idx(0x803, [images, 28, 28], new Uint8Array(images * 784)));
        fs.writeFileSync(path.join(dir, `${split}-images-idx3-ubyte.gz`), imageBytes);
        fs.writeFileSync(path.join(dir, `${split}-labels-idx1-ubyte.gz`), gzipSync(idx(0x801, [labels.length], labels)));
      }
      return dir;
    };
    await assertRefusedKeepingOldSet('bomb', fashion('bomb', 2, Uint8Array.of(1, 2), true), /train-images-idx3-ubyte\.gz: unpacks to more than 47040016 bytes/, 'fashion-mnist');
    await assertRefusedKeepingOldSet('empty', fashion('empty', 0, new Uint8Array(0)), /fashion-empty: holds no training images/, 'fashion-mnist');
    await assertRefusedKeepingOldSet('labels', fashion('labels', 2, Uint8Array.of(1, 12)), /train-labels-idx1-ubyte\.gz: label 1 is 12, expected 0-9/, 'fashion-mnist');
  });

  it('a prepared split of 0 images: one line, not a RangeError', () => {
    const dataDir = path.join(root, 'empty-split');
    fs.mkdirSync(path.join(dataDir, 'cifar10'), { recursive: true });
    const empty = { count: 0, labels: new Uint8Array(0), images: new Uint8Array(0) };
    writeDataFile(path.join(dataDir, 'cifar10', 'train.bin'), empty);
    writeDataFile(path.join(dataDir, 'cifar10', 'test.bin'), empty);
    fs.writeFileSync(path.join(dataDir, 'cifar10', 'meta.json'), JSON.stringify({ dataset: 'cifar10', classes: CLASSES, trainCount: 0, testCount: 0, source: 'x' }));
    assert.throws(() => loadDataset(dataDir), isError(DataError, /cifar10\/train\.bin: holds no images, so there is nothing to train on; run `squeeze setup`/));
  });

  it('a download server that never answers, or stops sending, times out after the timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server: Server = createServer((request, response) => {
      if (request.url === '/slow') { response.writeHead(200, { 'content-length': '1000' }); response.write(Buffer.alloc(10)); }
      // '/silent': never answers
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [url, mention] of [['/silent', /silent: no answer within 0\.5 s \(--download_timeout\)/], ['/slow', /slow: no data for 0\.5 s \(--download_timeout\)/]] as const) {
        const destination = path.join(root, 'download.tar.gz');
        const { lines, log } = collectLog();
        await assert.rejects(downloadCifar10({ destination, url: base + url, progress: false, log, timeoutMs: 500 }), isError(DataError, mention));
        assert.match(lines[0]!, /^Downloading .* \(giving up after 0\.5 s without data\)$/);
        assert.deepEqual(fs.readdirSync(root).filter((f) => f.startsWith('download')), [], 'no partial file is left');
      }
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('setup holds the data folder\'s lock: a second setup on it stops with one line', async () => {
    const dataDir = path.join(root, 'data-locked');
    fs.mkdirSync(dataDir, { recursive: true });
    const holder = await lockHolder(dataDir, 'data', '--data_dir');
    try {
      await assert.rejects(setupData({ dataDir, from: archive, progress: false, log: () => {} }), isError(LockError, new RegExp(`data-locked: in use by another squeeze \\(PID ${holder.pid}\\b.*use another --data_dir$`)));
      assert.deepEqual(fs.readdirSync(dataDir), ['.squeeze-data.lock'], 'nothing was prepared');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});


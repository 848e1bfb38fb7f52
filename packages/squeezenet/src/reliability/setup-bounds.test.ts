import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { CIFAR10_FOLDER, CIFAR10_TRAIN_FILES } from '../data/cifar.js';
import { loadDataset } from '../data/dataset.js';
import { writeDataFile } from '../data/datafile.js';
import { downloadCifar10 } from '../data/download.js';
import { DataError } from '../data/errors.js';
import { makeCifarFixture } from '../data/fixture.js';
import { setupData } from '../data/setup.js';
import { collectLog, makeTempDir } from '../data/test-helpers.js';
import { LockError } from './lock.js';
import { isError, lockHolder, snapshot, zeroTarGz } from './test-helpers.js';

/**
 * setup under hostile sources (docs/reliability.md): only the expected archive paths, bounded
 * bytes, no FIFOs or devices, empty splits refused, downloads that time out, one setup per folder;
 * a failure always leaves the prepared set as it was.
 */

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

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


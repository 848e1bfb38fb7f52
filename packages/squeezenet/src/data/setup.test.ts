import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import pngjs from 'pngjs';
import * as tar from 'tar';
import { CIFAR10_CLASSES, CIFAR10_FOLDER, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, concatSplits, readCifarBatchFile } from './cifar.js';
import { loadDataset } from './dataset.js';
import { downloadCifar10 } from './download.js';
import { DataError } from './errors.js';
import { FASHION_MNIST_CLASSES, locateFashionMnist, FASHION_MNIST_SYSTEM_DIR } from './fashion.js';
import { makeCifarFixture } from './fixture.js';
import { setupData } from './setup.js';
import { IMAGE_BYTES, IMAGE_PLANE, type Split } from './split.js';
import { collectLog, extractTarGz, listFiles, makeTempDir } from './test-helpers.js';

const CIFAR_LABELS_TXT = '0:airplane\n1:automobile\n2:bird\n3:cat\n4:deer\n5:dog\n6:frog\n7:horse\n8:ship\n9:truck\n';

function isDataError(pattern: RegExp) {
  return (error: unknown) => {
    if (!(error instanceof DataError)) return false;
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'message is one line');
    return true;
  };
}

/** Pixels of a PNG file as CHW bytes. */
function pngAsChw(path: string): Uint8Array {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  assert.deepEqual([png.width, png.height], [32, 32]);
  const chw = new Uint8Array(IMAGE_BYTES);
  for (let p = 0; p < IMAGE_PLANE; p++) for (let c = 0; c < 3; c++) chw[c * IMAGE_PLANE + p] = png.data[p * 4 + c]!;
  return chw;
}

function image(split: Split, i: number): Uint8Array {
  return split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
}

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('data/setup: CIFAR-10', function () {
  this.timeout(120_000); // a few setups of small fixtures: seconds, minutes on a loaded machine
  let root: string;
  let archive: string;
  let batchesFolder: string;
  let sourceTrain: Split;
  let sourceTest: Split;

  before(async () => {
    root = makeTempDir('setup');
    archive = await makeCifarFixture(join(root, 'fixture'), { trainPerClass: 12, testPerClass: 5, seed: 11 });
    mkdirSync(join(root, 'extracted'));
    await extractTarGz(archive, join(root, 'extracted'));
    batchesFolder = join(root, 'extracted', CIFAR10_FOLDER);
    sourceTrain = concatSplits(CIFAR10_TRAIN_FILES.map((file) => readCifarBatchFile(join(batchesFolder, file))));
    sourceTest = readCifarBatchFile(join(batchesFolder, CIFAR10_TEST_FILE));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('from the fixture archive', () => {
    let dataDir: string;
    before(async () => {
      dataDir = join(root, 'from-archive');
      const { lines, log } = collectLog();
      const result = await setupData({ dataDir, from: archive, progress: false, log });
      assert.deepEqual(result, { dataset: 'cifar10', dir: join(dataDir, 'cifar10'), trainCount: 120, testCount: 50, alreadyPresent: false });
      assert.ok(lines.some((line) => /^Extract: 100%/.test(line)) && lines.some((line) => /^PNG images: 100%/.test(line)));
    });

    it('writes the data files, meta.json and labels.txt', () => {
      assert.deepEqual(listFiles(join(dataDir, 'cifar10')), ['labels.txt', 'meta.json', 'test.bin', 'train.bin']);
      assert.deepEqual(listFiles(dataDir), ['cifar10', 'cifar10_images', 'labels.txt'], 'no temporary files or extraction left');
      assert.equal(readFileSync(join(dataDir, 'labels.txt'), 'utf8'), CIFAR_LABELS_TXT);
      assert.equal(readFileSync(join(dataDir, 'cifar10', 'labels.txt'), 'utf8'), CIFAR_LABELS_TXT);
      assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'cifar10', 'meta.json'), 'utf8')), {
        dataset: 'cifar10',
        classes: CIFAR10_CLASSES,
        trainCount: 120,
        testCount: 50,
        source: archive,
      });
    });

    it('stores the records in dataset order (training batches 1 to 5, then the test batch)', () => {
      const loaded = loadDataset(dataDir);
      assert.deepEqual(loaded.train.labels, sourceTrain.labels);
      assert.deepEqual(loaded.train.images, sourceTrain.images);
      assert.deepEqual(loaded.test.labels, sourceTest.labels);
      assert.deepEqual(loaded.test.images, sourceTest.images);
    });

    it('numbers the PNG tree per class in dataset order', () => {
      const ships = [...sourceTest.labels.keys()].filter((i) => sourceTest.labels[i] === 8);
      const shipDir = join(dataDir, 'cifar10_images', 'test', 'ship');
      assert.deepEqual(listFiles(shipDir), ['0001.png', '0002.png', '0003.png', '0004.png', '0005.png']);
      assert.deepEqual(pngAsChw(join(shipDir, '0001.png')), image(sourceTest, ships[0]!));
      assert.deepEqual(pngAsChw(join(shipDir, '0005.png')), image(sourceTest, ships[4]!));
      const firstTrainFrog = sourceTrain.labels.indexOf(6);
      assert.deepEqual(pngAsChw(join(dataDir, 'cifar10_images', 'train', 'frog', '0001.png')), image(sourceTrain, firstTrainFrog));
      for (const name of CIFAR10_CLASSES) {
        assert.equal(listFiles(join(dataDir, 'cifar10_images', 'train', name)).length, 12, name);
        assert.equal(listFiles(join(dataDir, 'cifar10_images', 'test', name)).length, 5, name);
      }
    });

    it('is idempotent, and restores a missing dataDir/labels.txt', async () => {
      const trainBin = join(dataDir, 'cifar10', 'train.bin');
      const before = statSync(trainBin).mtimeMs;
      rmSync(join(dataDir, 'labels.txt'));
      const { lines, log } = collectLog();
      const result = await setupData({ dataDir, from: join(root, 'no-such-source'), progress: false, log });
      assert.deepEqual(result, { dataset: 'cifar10', dir: join(dataDir, 'cifar10'), trainCount: 120, testCount: 50, alreadyPresent: true });
      assert.deepEqual(lines, [`CIFAR-10 already prepared in ${join(dataDir, 'cifar10')}`]);
      assert.equal(statSync(trainBin).mtimeMs, before, 'train.bin untouched');
      assert.equal(readFileSync(join(dataDir, 'labels.txt'), 'utf8'), CIFAR_LABELS_TXT);
    });
  });

  it('prepares from the extracted folder and from its parent, with the same result', async () => {
    for (const from of [batchesFolder, join(root, 'extracted')]) {
      const dataDir = join(root, `from-folder-${from === batchesFolder ? 'self' : 'parent'}`);
      const result = await setupData({ dataDir, from, progress: false, log: () => {} });
      assert.equal(result.trainCount, 120);
      const loaded = loadDataset(dataDir, 'cifar10');
      assert.deepEqual(loaded.train.images, sourceTrain.images);
      assert.deepEqual(loaded.test.labels, sourceTest.labels);
      assert.equal(JSON.parse(readFileSync(join(dataDir, 'cifar10', 'meta.json'), 'utf8')).source, batchesFolder);
    }
  });

  it('honours limit, and rebuilds when the limit changes', async () => {
    const dataDir = join(root, 'limited');
    const first = await setupData({ dataDir, from: archive, progress: false, log: () => {}, limit: 7 });
    assert.deepEqual([first.trainCount, first.testCount], [7, 7]);
    assert.deepEqual(loadDataset(dataDir).test.labels, sourceTest.labels.subarray(0, 7));
    const second = await setupData({ dataDir, from: archive, progress: false, log: () => {} });
    assert.deepEqual([second.trainCount, second.testCount, second.alreadyPresent], [120, 50, false]);
  });

  it('rebuilds a set whose data file is damaged', async () => {
    const dataDir = join(root, 'damaged');
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
    const trainBin = join(dataDir, 'cifar10', 'train.bin');
    const bytes = readFileSync(trainBin);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(trainBin, bytes);
    const { lines, log } = collectLog();
    const result = await setupData({ dataDir, from: archive, progress: false, log });
    assert.equal(result.alreadyPresent, false);
    assert.ok(lines.some((line) => line.includes('train.bin: checksum mismatch')), lines.join('\n'));
    assert.deepEqual(loadDataset(dataDir).train.images, sourceTrain.images);
  });

  it('rejects a corrupt archive with a DataError naming it, leaving no meta.json', async () => {
    const bytes = readFileSync(archive);
    for (const [name, damaged] of [
      ['truncated', bytes.subarray(0, bytes.length >> 1)],
      ['garbage', Buffer.alloc(4096, 0x5a)],
    ] as const) {
      const corrupt = join(root, `corrupt-${name}`, 'cifar-10-binary.tar.gz');
      mkdirSync(join(root, `corrupt-${name}`));
      writeFileSync(corrupt, damaged);
      const dataDir = join(root, `corrupt-${name}-data`);
      await assert.rejects(
        setupData({ dataDir, from: corrupt, progress: false, log: () => {} }),
        isDataError(new RegExp(`^${corrupt.replace(/[.]/g, '\\.')}: cannot be extracted .*re-download it\\.$`)),
      );
      assert.ok(!existsSync(join(dataDir, 'cifar10', 'meta.json')));
      assert.deepEqual(listFiles(dataDir), [], `${name}: nothing left behind`);
    }
  });

  it('refuses an archive entry larger than a CIFAR-10 batch before writing it', async () => {
    // A 40 MB "batch" stored uncompressed (tar itself refuses compression ratios over 1000, so a real
    // bomb needs a large archive; the cap holds whatever the ratio).
    const src = join(root, 'bomb-src');
    mkdirSync(join(src, CIFAR10_FOLDER), { recursive: true });
    writeFileSync(join(src, CIFAR10_FOLDER, CIFAR10_TRAIN_FILES[0]!), '');
    truncateSync(join(src, CIFAR10_FOLDER, CIFAR10_TRAIN_FILES[0]!), 40_000_000);
    const bomb = join(root, 'bomb', 'cifar-10-binary.tar.gz');
    mkdirSync(join(root, 'bomb'));
    tar.c({ gzip: { level: 0 }, file: bomb, cwd: src, sync: true }, [CIFAR10_FOLDER]);
    const dataDir = join(root, 'bomb-data');
    await assert.rejects(
      setupData({ dataDir, from: bomb, progress: false, log: () => {} }),
      isDataError(/: entry cifar-10-batches-bin\/data_batch_1\.bin \(40000000 bytes\) is larger than a CIFAR-10 batch \(30730000 bytes\); this is not the CIFAR-10 binary archive — re-download it\.$/),
    );
    assert.deepEqual(listFiles(dataDir), [], 'nothing left behind');
  });

  it('rejects a truncated batch, naming it, and leaves the previous set as it was', async () => {
    const dataDir = join(root, 'truncated-batch');
    await setupData({ dataDir, from: archive, progress: false, log: () => {}, limit: 3 });
    const folder = join(root, 'truncated-folder');
    cpSync(batchesFolder, folder, { recursive: true });
    truncateSync(join(folder, 'data_batch_3.bin'), statSync(join(folder, 'data_batch_3.bin')).size - 100);
    await assert.rejects(
      setupData({ dataDir, from: folder, progress: false, log: () => {} }),
      isDataError(/truncated-folder\/data_batch_3\.bin: \d+ bytes is not a whole number of 3073-byte CIFAR-10 records/),
    );
    // The new set is built beside the old one: the failure leaves the old one loadable, unchanged.
    assert.equal(loadDataset(dataDir, 'cifar10').train.count, 3);
    assert.deepEqual(readdirSync(dataDir).sort(), ['cifar10', 'cifar10_images', 'labels.txt'], 'no staging folder or lock is left');

    // Inside an archive, the message names the archive and the member.
    const repacked = join(root, 'truncated-archive.tar.gz');
    cpSync(folder, join(root, 'repack', CIFAR10_FOLDER), { recursive: true });
    await tar.c({ gzip: true, file: repacked, cwd: join(root, 'repack') }, [CIFAR10_FOLDER]);
    await assert.rejects(
      setupData({ dataDir: join(root, 'truncated-archive-data'), from: repacked, progress: false, log: () => {} }),
      isDataError(new RegExp(`^${repacked.replace(/[.]/g, '\\.')}:cifar-10-batches-bin/data_batch_3\\.bin: 73652 bytes is not`)),
    );
  });

  it('explains what to pass when the source is missing or unusable', async () => {
    const dataDir = join(root, 'bad-sources');
    await assert.rejects(setupData({ dataDir, from: join(root, 'nope'), progress: false, log: () => {} }), isDataError(/nope: does not exist; pass --from/));
    mkdirSync(join(root, 'empty-folder'));
    await assert.rejects(setupData({ dataDir, from: join(root, 'empty-folder'), progress: false, log: () => {} }), isDataError(/empty-folder: holds neither data_batch_1\.bin/));
    await assert.rejects(setupData({ dataDir, download: false, progress: false, log: () => {} }), isDataError(/downloading is off; pass --from/));
  });

  it('when the download site is unreachable, says to download elsewhere and pass --from', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/cifar-10-binary.tar.gz`;
    const dataDir = join(root, 'offline');
    await assert.rejects(
      setupData({ dataDir, url, progress: false, log: () => {} }),
      isDataError(new RegExp(`^${url.replace(/[.]/g, '\\.')}: cannot be reached \\(ECONNREFUSED\\); download cifar-10-binary\\.tar\\.gz .* pass it with --from PATH\\.$`)),
    );
    assert.deepEqual(listFiles(dataDir), [], 'no partial download or meta.json');
  });
});

describe('data/download', function () {
  this.timeout(60_000);
  const payload = Buffer.from('not really cifar '.repeat(5000));
  let server: Server;
  let base: string;
  let root: string;

  before(async () => {
    root = makeTempDir('download');
    server = createServer((request, response) => {
      if (request.url !== '/archive.tar.gz') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-length': payload.length });
      response.end(payload);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  it('saves the file when its MD5 matches', async () => {
    const md5 = createHash('md5').update(payload).digest('hex');
    const destination = join(root, 'ok.tar.gz');
    const { lines, log } = collectLog();
    assert.equal(await downloadCifar10({ destination, url: `${base}/archive.tar.gz`, md5, progress: false, log }), destination);
    assert.ok(readFileSync(destination).equals(payload));
    assert.ok(lines.some((line) => /^Download: 100% \(0\.1 MB\/0\.1 MB\)$/.test(line)), lines.join('\n'));
  });

  it('refuses a file with the wrong MD5 and leaves nothing behind', async () => {
    const destination = join(root, 'sub', 'bad.tar.gz');
    mkdirSync(join(root, 'sub'));
    await assert.rejects(
      downloadCifar10({ destination, url: `${base}/archive.tar.gz`, progress: false, log: () => {} }),
      isDataError(/has MD5 [0-9a-f]{32}, expected c32a1d4ab5d03f1284b67883e8d87530/),
    );
    assert.deepEqual(listFiles(join(root, 'sub')), []);
  });

  it('reports HTTP errors with the --from advice', async () => {
    await assert.rejects(
      downloadCifar10({ destination: join(root, 'x'), url: `${base}/missing`, progress: false, log: () => {} }),
      isDataError(/missing: server answered HTTP 404; .*--from PATH/),
    );
  });
});

describe('data/setup: Fashion-MNIST', function () {
  this.timeout(120_000);
  let root: string;
  before(() => {
    root = makeTempDir('fashion');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Writes an idx file: big-endian magic and dimensions, then the bytes. */
  function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt32BE(magic, 0);
    dims.forEach((dim, i) => header.writeUInt32BE(dim, 4 + 4 * i));
    return Buffer.concat([header, data]);
  }

  /** Synthetic Fashion-MNIST with pixel (i, y, x) = (i + 7y + 3x + 1) mod 256 — never 0, so padding is recognisable. */
  function writeSyntheticFolder(folder: string, counts: { train: number; t10k: number }, compress: boolean): void {
    mkdirSync(folder, { recursive: true });
    for (const [split, count] of Object.entries(counts)) {
      const pixels = new Uint8Array(count * 784);
      for (let i = 0; i < count; i++) for (let p = 0; p < 784; p++) pixels[i * 784 + p] = ((i + 7 * Math.floor(p / 28) + 3 * (p % 28)) % 255) + 1;
      const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10);
      const files: [string, Buffer][] = [
        [`${split}-images-idx3-ubyte`, idx(0x803, [count, 28, 28], pixels)],
        [`${split}-labels-idx1-ubyte`, idx(0x801, [count], labels)],
      ];
      for (const [name, bytes] of files) writeFileSync(join(folder, compress ? `${name}.gz` : name), compress ? gzipSync(bytes) : bytes);
    }
  }

  function assertPaddedReplicated(split: Split, i: number, centre: (y: number, x: number) => number): void {
    const img = image(split, i);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          const expected = inside ? centre(y - 2, x - 2) : 0;
          if (img[c * 1024 + y * 32 + x] !== expected) assert.fail(`image ${i} channel ${c} (${y},${x}): ${img[c * 1024 + y * 32 + x]} vs ${expected}`);
        }
      }
    }
  }

  for (const compress of [true, false]) {
    it(`prepares from a folder of ${compress ? 'gzipped' : 'raw'} idx files, padding 28×28 to 32×32 and replicating grey to RGB`, async () => {
      const folder = join(root, `idx-${compress}`);
      writeSyntheticFolder(folder, { train: 6, t10k: 4 }, compress);
      const dataDir = join(root, `data-${compress}`);
      const result = await setupData({ dataset: 'fashion-mnist', dataDir, from: folder, progress: false, log: () => {} });
      assert.deepEqual(result, { dataset: 'fashion-mnist', dir: join(dataDir, 'fashion-mnist'), trainCount: 6, testCount: 4, alreadyPresent: false });
      const loaded = loadDataset(dataDir);
      assert.equal(loaded.name, 'fashion-mnist');
      assert.deepEqual(loaded.classes, FASHION_MNIST_CLASSES);
      assert.deepEqual([...loaded.train.labels], [0, 3, 6, 9, 2, 5]);
      for (let i = 0; i < 6; i++) assertPaddedReplicated(loaded.train, i, (y, x) => ((i + 7 * y + 3 * x) % 255) + 1);
      for (let i = 0; i < 4; i++) assertPaddedReplicated(loaded.test, i, (y, x) => ((i + 7 * y + 3 * x) % 255) + 1);

      const labelsTxt = readFileSync(join(dataDir, 'labels.txt'), 'utf8');
      assert.equal(labelsTxt.split('\n')[0], '0:T-shirt/top');
      assert.equal(labelsTxt.split('\n')[9], '9:Ankle boot');
      assert.equal(readFileSync(join(dataDir, 'fashion-mnist', 'labels.txt'), 'utf8'), labelsTxt);
      const trainTree = join(dataDir, 'fashion-mnist_images', 'train');
      assert.deepEqual(listFiles(trainTree), ['Ankle_boot', 'Bag', 'Coat', 'Dress', 'Pullover', 'Sandal', 'Shirt', 'Sneaker', 'T-shirt_top', 'Trouser']);
      assert.deepEqual(listFiles(join(trainTree, 'T-shirt_top')), ['0001.png']);
      assert.deepEqual(pngAsChw(join(trainTree, 'Ankle_boot', '0001.png')), image(loaded.train, 3));
    });
  }

  it('with both datasets prepared, loads CIFAR-10 by default and labels.txt follows the latest setup', async () => {
    const dataDir = join(root, 'both');
    const folder = join(root, 'idx-both');
    writeSyntheticFolder(folder, { train: 2, t10k: 2 }, true);
    await setupData({ dataset: 'fashion-mnist', dataDir, from: folder, progress: false, log: () => {} });
    assert.equal(loadDataset(dataDir).name, 'fashion-mnist');
    const archive = await makeCifarFixture(join(root, 'both-fixture'), { trainPerClass: 1, testPerClass: 1 });
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
    assert.equal(loadDataset(dataDir).name, 'cifar10');
    assert.equal(loadDataset(dataDir, 'fashion-mnist').train.count, 2);
    assert.equal(readFileSync(join(dataDir, 'labels.txt'), 'utf8'), CIFAR_LABELS_TXT);
    const again = await setupData({ dataset: 'fashion-mnist', dataDir, from: folder, progress: false, log: () => {} });
    assert.equal(again.alreadyPresent, true);
    assert.match(readFileSync(join(dataDir, 'labels.txt'), 'utf8'), /^0:T-shirt\/top\n/);
  });

  it('prepares a limited subset of the system copy', async function () {
    if (!existsSync(FASHION_MNIST_SYSTEM_DIR)) this.skip();
    const dataDir = join(root, 'system');
    const result = await setupData({ dataset: 'fashion-mnist', dataDir, limit: 20, progress: false, log: () => {} });
    assert.deepEqual([result.trainCount, result.testCount], [20, 20]);
    const loaded = loadDataset(dataDir, 'fashion-mnist');
    const raw = gunzipSync(readFileSync(join(FASHION_MNIST_SYSTEM_DIR, 't10k-images-idx3-ubyte.gz'))).subarray(16);
    const rawLabels = gunzipSync(readFileSync(join(FASHION_MNIST_SYSTEM_DIR, 't10k-labels-idx1-ubyte.gz'))).subarray(8, 28);
    assert.deepEqual(loaded.test.labels, new Uint8Array(rawLabels));
    for (const i of [0, 19]) assertPaddedReplicated(loaded.test, i, (y, x) => raw[i * 784 + y * 28 + x]!);
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'fashion-mnist', 'meta.json'), 'utf8')).limit, 20);
  });

  it('explains how to get Fashion-MNIST when it is missing or damaged', async () => {
    assert.throws(() => locateFashionMnist(undefined, join(root, 'not-installed')), isDataError(/not-installed: Fashion-MNIST not found; run `apt-get install dataset-fashion-mnist` or pass --from/));
    mkdirSync(join(root, 'empty'));
    await assert.rejects(
      setupData({ dataset: 'fashion-mnist', dataDir: join(root, 'd1'), from: join(root, 'empty'), progress: false, log: () => {} }),
      isDataError(/empty\/train-images-idx3-ubyte\(\.gz\): missing/),
    );
    const folder = join(root, 'short');
    writeSyntheticFolder(folder, { train: 3, t10k: 2 }, false);
    truncateSync(join(folder, 't10k-images-idx3-ubyte'), 16 + 784 + 5);
    await assert.rejects(
      setupData({ dataset: 'fashion-mnist', dataDir: join(root, 'd2'), from: folder, progress: false, log: () => {} }),
      isDataError(/short\/t10k-images-idx3-ubyte: 805 bytes but its header \(2×28×28\) needs 1584/),
    );
    assert.ok(!existsSync(join(root, 'd2', 'fashion-mnist', 'meta.json')));
  });
});

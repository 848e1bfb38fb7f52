import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetPaths, decodeImageFile, makeCifarFixture, readDataFile, setupData } from '@squeeze/squeezenet';
import { startWebServer, type ServerInfo, type WebServer } from './index.js';

/** A raw GET: the path goes on the wire as written (fetch and URL would normalise `..` away first). */
function rawGet(url: string, rawPath: string, method = 'GET'): Promise<{ status: number; body: Buffer; type: string | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('squeeze web: the server', function () {
  let root: string;
  let dataDir: string;
  let web: WebServer;

  before(async function () {
    root = mkdtempSync(join(tmpdir(), 'squeeze-web-server-'));
    dataDir = join(root, 'data');
    const archive = await makeCifarFixture(join(root, 'fixture'), { trainPerClass: 4, testPerClass: 2 });
    await setupData({ dataDir, from: archive, download: false, progress: false, log: () => {} });
    const pageDir = join(root, 'page');
    mkdirSync(pageDir);
    writeFileSync(join(pageDir, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(pageDir, 'app.js'), 'export {};');
    // A secret beside the served folders: nothing may reach it.
    writeFileSync(join(root, 'secret.txt'), 'secret');
    web = await startWebServer({ port: 0, host: '127.0.0.1', dataDir, modelDir: join(root, 'models-none'), pageDir });
  });

  after(async function () {
    await web?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the page, the info and the prepared files byte for byte', async function () {
    const page = await rawGet(web.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.type!, /text\/html/);
    assert.equal((await rawGet(web.url, '/app.js')).status, 200);
    const info = JSON.parse((await rawGet(web.url, '/api/info')).body.toString()) as ServerInfo;
    assert.deepEqual(info.datasets.map((d) => [d.name, d.trainCount, d.testCount]), [['cifar10', 40, 20]]);
    assert.equal(info.model, null);
    const paths = datasetPaths(dataDir, 'cifar10');
    assert.deepEqual((await rawGet(web.url, info.datasets[0]!.train)).body, readFileSync(paths.train));
    assert.deepEqual((await rawGet(web.url, info.datasets[0]!.test)).body, readFileSync(paths.test));
    assert.equal((await rawGet(web.url, '/data/cifar10/test.bin', 'HEAD')).status, 200);
  });

  it('offers one test image per class in the gallery, as PNGs of the prepared pixels', async function () {
    const info = JSON.parse((await rawGet(web.url, '/api/info')).body.toString()) as ServerInfo;
    assert.equal(info.gallery.length, 10);
    assert.equal(new Set(info.gallery.map((g) => g.label)).size, 10);
    const test = readDataFile(datasetPaths(dataDir, 'cifar10').test, '');
    const g = info.gallery[0]!;
    const index = Number(/test-(\d+)-/.exec(g.name)![1]);
    const file = join(root, g.name);
    writeFileSync(file, (await rawGet(web.url, g.url)).body);
    const decoded = decodeImageFile(file);
    assert.deepEqual([decoded.sourceWidth, decoded.sourceHeight], [32, 32]);
    for (let i = 0; i < 3072; i++) assert.equal(Math.round(decoded.rgb[i]! * 255), test.images[index * 3072 + i]);
  });

  it('answers 404 to traversal and to anything not in its table, and 405 to writes', async function () {
    const attempts = [
      '/../package.json', '/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/%2e%2e/secret.txt', '/.%2e/secret.txt',
      '/data/..%2fsecret.txt', '/data%2fcifar10%2ftrain.bin', '/data/cifar10/..\\..\\secret.txt', '/data\\cifar10\\train.bin',
      '/data/cifar10/train.bin%00.png', '/data/cifar10/./train.bin', '//etc/passwd', '/etc/passwd', '/secret.txt',
      '/data/cifar10/labels.txt', '/data/cifar10/', '/data/', '/model/squeezenet.safetensors', '/index.html/..', '/%ZZ',
      'http://example.com/../secret.txt',
    ];
    for (const a of attempts) {
      const r = await rawGet(web.url, a);
      assert.equal(r.status, 404, `${a} → ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /secret|"name"/);
    }
    assert.equal((await rawGet(web.url, '/data/cifar10/train.bin', 'PUT')).status, 405);
    assert.equal((await rawGet(web.url, '/', 'POST')).status, 405);
  });

  it('says in one line when its port is taken', async function () {
    const port = Number(new URL(web.url).port);
    await assert.rejects(startWebServer({ port, host: '127.0.0.1', dataDir, modelDir: root, pageDir: join(root, 'page') }), (e: Error) => {
      assert.equal(e.message, `127.0.0.1:${port} is already in use (another squeeze web?); choose another port`);
      return true;
    });
  });

  it('refuses to start without a built page, naming the folder', async function () {
    const missing = join(root, 'no-page');
    await assert.rejects(startWebServer({ port: 0, host: '127.0.0.1', dataDir, modelDir: root, pageDir: missing }), (e: Error) => {
      assert.match(e.message, /no-page.*pnpm build/);
      return true;
    });
  });
});

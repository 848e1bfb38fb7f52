import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeCifarFixture, setupData } from '@squeeze/squeezenet';
import { FLAG_NAMES, FLAG_SPECS } from '@squeeze/web';
import { makeTempDir, SQUEEZE_BIN } from '../test-helpers.js';
import train from './train.js';

const START_TIMEOUT_MS = 60_000;

/** Starts `squeeze web` and resolves with its URL once it prints it. */
function startSqueezeWeb(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(SQUEEZE_BIN, ['web', ...args], { env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`squeeze web printed no URL:\n${stdout}${stderr}`)); }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /open (http:\/\/\S+\/) /.exec(stdout);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1]!, stderr: () => stderr }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`squeeze web exited (${code}) before printing a URL:\n${stdout}${stderr}`)); });
  });
}

function rawGet(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http.get({ host: hostname, port, path }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('squeeze web', function () {
  let root: string;
  let dataDir: string;

  before(async function () {
    root = makeTempDir('web');
    dataDir = join(root, 'data');
    await setupData({ dataDir, from: await makeCifarFixture(join(root, 'fixture'), { trainPerClass: 2, testPerClass: 1 }), download: false, progress: false, log: () => {} });
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('prints the URL on 127.0.0.1, serves the page and the dataset read-only, and exits 0 on Ctrl-C', async function () {
    const { child, url, stderr } = await startSqueezeWeb(['--port', '0', '--data_dir', dataDir, '--model_dir', root]);
    const exited = exitCode(child);
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(await rawGet(url, '/'), 200);
      assert.equal(await rawGet(url, '/app.js'), 200);
      assert.equal(await rawGet(url, '/data/cifar10/train.bin'), 200);
      assert.equal(await rawGet(url, '/../package.json'), 404);
      assert.equal(await rawGet(url, '/%2e%2e/%2e%2e/package.json'), 404);
      assert.doesNotMatch(stderr(), /Warning: serving/);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });

  it('warns when --host opens it to other machines', async function () {
    const { child, url, stderr } = await startSqueezeWeb(['--port', '0', '--host', '0.0.0.0', '--data_dir', dataDir, '--model_dir', root]);
    const exited = exitCode(child);
    child.kill('SIGINT');
    await exited;
    assert.match(url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
    assert.match(stderr(), /^Warning: serving on 0\.0\.0\.0: anyone who can reach this machine/m);
  });

  it("offers the page the training flags of 'squeeze train' with its names, defaults and limits", function () {
    for (const name of FLAG_NAMES) {
      const cli = train.flags[name as keyof typeof train.flags] as { type: string; default?: unknown; min?: number; choices?: readonly string[] };
      const page = FLAG_SPECS[name];
      assert.ok(cli, `squeeze train has --${name}`);
      if (name === 'dataset') continue; // the page's choices are the datasets the server prepared
      assert.equal(page.default, cli.default, `${name} default`);
      if (page.type === 'int') assert.equal(page.min, cli.min, `${name} min`);
      if (page.type === 'enum') assert.deepEqual(page.choices, cli.choices, `${name} choices`);
      if (page.type === 'float') assert.equal(page.greaterThan, cli.min, `${name} lower bound`);
    }
  });
});

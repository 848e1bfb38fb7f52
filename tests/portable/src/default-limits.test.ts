import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The op, optimizer, layer and training tests again, on a device opened with WebGPU's default
 * limits (8 storage buffers per stage, 256 invocations and 16 KiB of workgroup storage per
 * workgroup, 128 MiB bindings): what a page gets that asks for nothing. In a child process, since
 * the run's own device has the adapter's limits.
 */
const SUBSET = [
  'packages/core/dist/ops/**/*.test.js',
  'packages/core/dist/optim/*.test.js',
  'packages/core/dist/nn/*.test.js',
  'tests/portable/dist/training.test.js',
];

describe('WebGPU default limits', function () {
  this.timeout(60 * 60_000);

  it('op, optimizer, nn and squeezenet_cifar training tests pass on a device with WebGPU\'s default limits', async () => {
    const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
    const args = [mocha, '--no-config', '--require', 'packages/core/dist/testing/mocha-hooks.js', '--timeout', '600000', '--reporter', 'dot', ...SUBSET];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, SQUEEZE_DEFAULT_LIMITS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b; });
    child.stderr.on('data', (b: Buffer) => { out += b; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = /(\d+) passing[^\n]*/.exec(out)?.[0] ?? 'no summary';
    console.log(`      default limits: ${summary}`);
    assert.equal(code, 0, `the default-limits run failed:\n${out.slice(-6000)}`);
    assert.match(out, /[1-9]\d* passing/);
  });
});

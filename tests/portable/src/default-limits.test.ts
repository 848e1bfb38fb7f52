import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kernels from '@squeeze/kernels-wgsl';
import { WEBGPU_DEFAULT_LIMITS } from '@squeeze/core';
import type { KernelAudit } from './kernel-audit.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The op, optimizer, layer, horizontal-fusion and training tests again, on a device opened with WebGPU's default
 * limits (8 storage buffers per stage, 256 invocations and 16 KiB of workgroup storage per
 * workgroup, 128 MiB bindings): what a page gets that asks for nothing. In a child process, since
 * the run's own device has the adapter's limits. The child records every kernel it dispatches
 * (kernel-audit.ts): each kernel the package exports must be among them, within the limits.
 */
const SUBSET = [
  'packages/core/dist/ops/**/*.test.js',
  'packages/core/dist/optim/*.test.js',
  'packages/core/dist/nn/*.test.js',
  'packages/core/dist/runtime/fusion.test.js',
  'tests/portable/dist/training.test.js',
];

describe('WebGPU default limits', function () {
  this.timeout(60 * 60_000);

  let dir = '';
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('op, optimizer, nn and squeezenet_cifar training tests pass on a device with WebGPU\'s default limits; every kernel ran there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'squeeze-default-limits-'));
    const auditFile = join(dir, 'kernels.json');
    const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
    const args = [
      mocha, '--no-config', '--require', 'packages/core/dist/testing/mocha-hooks.js', '--require', 'tests/portable/dist/kernel-audit.js',
      '--timeout', '600000', '--reporter', 'dot', ...SUBSET,
    ];
    const env = { ...process.env, SQUEEZE_DEFAULT_LIMITS: '1', SQUEEZE_KERNEL_AUDIT: auditFile };
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b; });
    child.stderr.on('data', (b: Buffer) => { out += b; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = /(\d+) passing[^\n]*/.exec(out)?.[0] ?? 'no summary';
    console.log(`      default limits: ${summary}`);
    assert.equal(code, 0, `the default-limits run failed:\n${out.slice(-6000)}`);
    assert.match(out, /[1-9]\d* passing/);

    const audit = JSON.parse(readFileSync(auditFile, 'utf8')) as KernelAudit;
    const exported = Object.values(kernels).filter((k): k is kernels.Kernel<never> =>
      typeof k === 'object' && k !== null && 'wgsl' in k && 'bindings' in k && 'workgroupSize' in k).map((k) => k.name);
    assert.ok(exported.length > 40, `found ${exported.length} kernels in @squeeze/kernels-wgsl`);
    assert.deepEqual(exported.filter((name) => !audit[name]), [], 'kernels no test dispatched on the default limits');
    for (const [name, k] of Object.entries(audit)) {
      assert.ok(k.storageBuffers <= WEBGPU_DEFAULT_LIMITS.maxStorageBuffersPerShaderStage, `${name}: ${k.storageBuffers} storage buffers`);
      assert.ok(k.invocations <= WEBGPU_DEFAULT_LIMITS.maxComputeInvocationsPerWorkgroup, `${name}: ${k.invocations} invocations per workgroup`);
    }
  });
});

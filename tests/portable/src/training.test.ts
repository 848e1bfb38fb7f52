import assert from 'node:assert/strict';
import { getRuntime } from '@squeeze/core';
import { squeezeNetSteps, TRAIN_STEPS } from './workload.js';

/**
 * squeezenet_cifar trains on whatever device the run has: the adapter's limits in the main run,
 * WebGPU's default limits when default-limits.test.ts runs it again with SQUEEZE_DEFAULT_LIMITS=1.
 */
describe('squeezenet_cifar on this device\'s limits', () => {
  it(`${TRAIN_STEPS} Adam steps on one fixed batch: finite losses that fall`, async () => {
    if (process.env['SQUEEZE_DEFAULT_LIMITS'] === '1') {
      assert.equal(getRuntime().device.limits.maxStorageBuffersPerShaderStage, 8, 'the device has WebGPU\'s default limits');
    }
    const { losses } = await squeezeNetSteps();
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses.at(-1)! < losses[0]!, `losses ${losses}`);
  });
});

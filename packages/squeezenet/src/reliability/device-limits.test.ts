import assert from 'node:assert/strict';
import { GpuError, add, conv2d, getRuntime, memory, tensor, tidy, zeros } from '@squeeze/core';

/**
 * Work larger than the device allows must fail with a GpuError that names the limit and what to
 * change, before anything reaches the device: no validation error, no lost device, and the
 * runtime stays usable for the next, smaller request.
 */
describe('reliability: requests beyond the device limits', () => {
  async function assertRuntimeStillWorks(): Promise<void> {
    const sum = tidy(() => add(tensor([1, 2, 3], [3]), tensor([10, 20, 30], [3])));
    assert.deepEqual([...(await sum.data())], [11, 22, 33]);
    sum.dispose();
  }

  it('an activation larger than maxStorageBufferBindingSize', async () => {
    const limit = getRuntime().device.limits.maxStorageBufferBindingSize;
    // conv1 of SqueezeNet writes 96 channels of 32×32 floats per image.
    const batch = Math.ceil(limit / (96 * 32 * 32 * 4)) + 1;
    const live = memory().liveTensors;
    assert.throws(
      () => tidy(() => conv2d(zeros([batch, 3, 32, 32]), zeros([96, 3, 2, 2]), { padding: 'SAME' })),
      (e: unknown) => e instanceof GpuError && e.message.includes(`maxStorageBufferBindingSize (${limit} bytes)`) && e.message.includes('--batch_size'),
    );
    assert.equal(memory().liveTensors, live, 'tidy released what the failed op allocated');
    await assertRuntimeStillWorks();
  });

  it('a tensor larger than maxBufferSize', async () => {
    const limit = getRuntime().device.limits.maxBufferSize;
    const elements = Math.floor(limit / 4) + 1;
    assert.throws(
      () => zeros([elements]),
      (e: unknown) => e instanceof GpuError && e.message.includes(`maxBufferSize (${limit} bytes)`) && e.message.includes('--batch_size'),
    );
    await assertRuntimeStillWorks();
  });
});

import assert from 'node:assert/strict';
import { GpuError, add, conv2d, getRuntime, memory, tensor, tidy, zeros } from '@squeeze/core';
import { convTilesFor } from '@squeeze/kernels-wgsl';

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
      (e: unknown) => e instanceof GpuError && e.message.includes(`maxStorageBufferBindingSize (${limit} bytes)`) && e.message.includes('smaller batch'),
    );
    assert.equal(memory().liveTensors, live, 'tidy released what the failed op allocated');
    await assertRuntimeStillWorks();
  });

  it('more workgroups than maxComputeWorkgroupsPerDimension', async () => {
    const rt = getRuntime();
    const limit = rt.device.limits.maxComputeWorkgroupsPerDimension;
    // A 1×1 convolution of one channel: the GEMM covers tile.pixels × workgroup pixels per
    // workgroup along x, so this image needs limit + 1 workgroups with a small buffer.
    const tile = convTilesFor(rt.description).gemm;
    const width = tile.pixels * tile.workgroup;
    const live = memory().liveTensors;
    assert.throws(
      () => tidy(() => conv2d(zeros([1, 1, limit + 1, width]), zeros([1, 1, 1, 1]))),
      (e: unknown) => e instanceof GpuError && e.message.includes(`maxComputeWorkgroupsPerDimension (${limit})`) && e.message.includes('smaller batch'),
    );
    assert.equal(memory().liveTensors, live, 'tidy released what the failed op allocated');
    await assertRuntimeStillWorks();
  });

  it('a tensor larger than maxBufferSize', async () => {
    const limit = getRuntime().device.limits.maxBufferSize;
    const elements = Math.floor(limit / 4) + 1;
    assert.throws(
      () => zeros([elements]),
      (e: unknown) => e instanceof GpuError && e.message.includes(`maxBufferSize (${limit} bytes)`) && e.message.includes('smaller batch'),
    );
    await assertRuntimeStillWorks();
  });
});

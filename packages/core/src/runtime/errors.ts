import type { Kernel } from '@squeeze/kernels-wgsl';
import type { LimitName } from './device.js';

export class GpuError extends Error { override name = 'GpuError'; }

/**
 * Work too big for one of the device's limits. `detail` says what exceeds which limit; the message
 * adds what to do about it in the library's terms (an application may say it in its own).
 */
export class DeviceLimitError extends GpuError {
  override name = 'DeviceLimitError';
  constructor(readonly detail: string, readonly limit: LimitName) {
    super(`${detail}; use smaller tensors (a smaller batch)`);
  }
}

/**
 * Checks a dispatch against the device's limits before it reaches the device, where it would fail
 * validation with a message that names neither the kernel nor the limit. `limits` is the
 * description's copy (reading device.limits crosses into the binding, on every dispatch); the
 * kernel's storage buffers and workgroup size are checked once per specialisation (`checked`, by
 * `key`, the kernel's key at `params`).
 */
export function checkDispatchLimits<P>(
  limits: Record<LimitName, number>, kernel: Kernel<P>, params: P, bindings: readonly { byteLength: number }[],
  workgroups: readonly [number, number, number], checked: Set<string>, key = kernel.key(params),
): void {
  const maxWg = limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((w) => w > maxWg)) {
    throw new DeviceLimitError(`kernel ${kernel.name}: ${workgroups.join('×')} workgroups exceed maxComputeWorkgroupsPerDimension (${maxWg}) on this device`, 'maxComputeWorkgroupsPerDimension');
  }
  const maxBinding = limits.maxStorageBufferBindingSize;
  for (const b of bindings) {
    if (b.byteLength > maxBinding) {
      throw new DeviceLimitError(`kernel ${kernel.name}: a ${b.byteLength}-byte buffer exceeds maxStorageBufferBindingSize (${maxBinding} bytes) on this device`, 'maxStorageBufferBindingSize');
    }
  }
  if (checked.has(key)) return;
  const storage = kernel.bindings(params).length;
  if (storage > limits.maxStorageBuffersPerShaderStage) {
    throw new DeviceLimitError(`kernel ${kernel.name}: ${storage} storage buffers exceed maxStorageBuffersPerShaderStage (${limits.maxStorageBuffersPerShaderStage}) on this device`, 'maxStorageBuffersPerShaderStage');
  }
  const [x, y, z] = kernel.workgroupSize(params);
  if (x * y * z > limits.maxComputeInvocationsPerWorkgroup || x > limits.maxComputeWorkgroupSizeX || y > limits.maxComputeWorkgroupSizeY || z > limits.maxComputeWorkgroupSizeZ) {
    throw new DeviceLimitError(`kernel ${kernel.name}: a ${x}×${y}×${z} workgroup exceeds this device's workgroup limits (maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup})`, 'maxComputeInvocationsPerWorkgroup');
  }
  checked.add(key);
}

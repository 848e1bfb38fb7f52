import { create, globals } from 'webgpu';

// Dawn's node binding exposes the WebGPU constants (GPUBufferUsage, …) as `globals`.
Object.assign(globalThis, globals);
// Dawn's Vulkan loader warns when XDG_RUNTIME_DIR is unset; a harmless default keeps output clean.
process.env.XDG_RUNTIME_DIR ??= '/tmp';

let dawnInstance: GPU | null = null;

export const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];

export interface DeviceDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  /** true for a software adapter such as Mesa's llvmpipe (lavapipe) or SwiftShader. */
  software: boolean;
  features: string[];
  limits: Record<string, number>;
  /** lanes per subgroup when the device has 'subgroups' with one fixed size (lavapipe: 8), else 0. */
  subgroupSize: number;
}

export interface OpenedDevice { device: GPUDevice; adapter: GPUAdapter; description: DeviceDescription }

export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
}

export const VULKAN_FIX =
  'Dawn needs a Vulkan driver. On Debian 12 run `bash scripts/setup-system.sh` (installs Mesa 25 ' +
  "lavapipe from bookworm-backports; Debian 12's own Mesa 22.3 is rejected by Dawn), elsewhere " +
  "install your GPU vendor's Vulkan driver or Mesa >= 23 (mesa-vulkan-drivers).";

const KEY_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage', 'minUniformBufferOffsetAlignment',
] as const;

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|swiftshader|software|warp/i;

function fixedSubgroupSize(info: GPUAdapterInfo, device: GPUDevice): number {
  const sizes = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  if (!device.features.has('subgroups') || !sizes.subgroupMinSize || sizes.subgroupMinSize !== sizes.subgroupMaxSize) return 0;
  return sizes.subgroupMinSize;
}

/**
 * The device's fixed subgroup size if it divides every count given (tile widths, tiles, workgroup
 * size), else 0: what kernels that share loads through subgroup operations can rely on.
 */
export function subgroupSizeDividing(d: DeviceDescription, ...counts: number[]): number {
  return d.subgroupSize > 0 && counts.every((n) => n % d.subgroupSize === 0) ? d.subgroupSize : 0;
}

function describe(adapter: GPUAdapter, device: GPUDevice): DeviceDescription {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const limits: Record<string, number> = {};
  for (const k of KEY_LIMITS) limits[k] = Number(device.limits[k]);
  const backend = (info as unknown as { backendType?: string }).backendType ?? 'vulkan';
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend,
    software: SOFTWARE_ADAPTERS.test(text) || (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
    features: [...device.features].sort(),
    limits,
    subgroupSize: fixedSubgroupSize(info, device),
  };
}

function adapterText(a: GPUAdapter): string {
  const i = a.info;
  return `${i.vendor} ${i.architecture} ${i.device} ${i.description}`;
}

/**
 * Opens a WebGPU device through Dawn. `adapter` (or env SQUEEZE_ADAPTER) picks an adapter by a
 * case-insensitive substring of its vendor/architecture/device/description; by default a hardware
 * adapter is preferred and a software one (llvmpipe) is the fallback.
 */
export async function openDevice(opts: { adapter?: string } = {}): Promise<OpenedDevice> {
  const wanted = opts.adapter ?? process.env.SQUEEZE_ADAPTER;
  // The Dawn instance must outlive every device made from it: if it is garbage collected, Dawn's
  // event processing touches freed state and the process aborts at random (mutex errors,
  // segfaults). Keep it alive for the life of the process.
  // Dawn rounds GPU timestamps to 65.5 µs unless told otherwise; traces need kernel-level precision.
  const gpu = (dawnInstance ??= create(['disable-dawn-features=timestamp_quantization']));
  const candidates: GPUAdapter[] = [];
  for (const req of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }] as GPURequestAdapterOptions[]) {
    const a = await gpu.requestAdapter(req).catch(() => null);
    if (a && !candidates.some((c) => adapterText(c) === adapterText(a))) candidates.push(a);
  }
  if (candidates.length === 0) throw new NoAdapterError(`No WebGPU adapter found. ${VULKAN_FIX}`);
  let adapter: GPUAdapter | undefined;
  if (wanted) {
    adapter = candidates.find((a) => adapterText(a).toLowerCase().includes(wanted.toLowerCase()));
    if (!adapter) {
      throw new NoAdapterError(
        `No WebGPU adapter matches '${wanted}' (from ${opts.adapter ? '--adapter' : 'SQUEEZE_ADAPTER'}); available: ` +
          candidates.map((a) => `'${a.info.description || a.info.device || a.info.vendor}'`).join(', ') + '.',
      );
    }
  } else {
    adapter = candidates.find((a) => !SOFTWARE_ADAPTERS.test(adapterText(a))) ?? candidates[0]!;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const k of KEY_LIMITS) {
    if (k === 'minUniformBufferOffsetAlignment') continue;
    requiredLimits[k] = Number(adapter.limits[k]);
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return { device, adapter, description: describe(adapter, device) };
}

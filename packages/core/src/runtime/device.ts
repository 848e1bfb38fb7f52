/**
 * Devices, in terms every WebGPU implementation shares (navigator.gpu in a page, Dawn in Node):
 * choosing an adapter, opening a device with the features and limits squeeze can use, and the
 * description kernels read their limits from. Nothing here imports a platform's binding.
 */

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
  /** The device's limits that kernels and the runtime read (copied: reading device.limits crosses into the binding). */
  limits: Record<LimitName, number>;
  /** lanes per subgroup when the device has 'subgroups' with one fixed size (lavapipe: 8), else 0. */
  subgroupSize: number;
}

export interface OpenedDevice { device: GPUDevice; adapter: GPUAdapter | null; description: DeviceDescription }

/** No adapter (or none matching the one asked for). `requested` and `source` say what was asked, `available` what there is. */
export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
  constructor(
    message: string,
    readonly requested?: string,
    /** 'option': the `adapter` option; 'environment': env SQUEEZE_ADAPTER. */
    readonly source?: 'option' | 'environment',
    readonly available: string[] = [],
  ) { super(message); }
}

export const KEY_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
  'minUniformBufferOffsetAlignment',
] as const;
export type LimitName = (typeof KEY_LIMITS)[number];

/** WebGPU's default limits: what every adapter offers and a device gets when it asks for nothing. */
export const WEBGPU_DEFAULT_LIMITS: Readonly<Record<LimitName, number>> = {
  maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456, maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64, maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8,
  minUniformBufferOffsetAlignment: 256,
};

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|swiftshader|software|warp/i;

function fixedSubgroupSize(info: GPUAdapterInfo | undefined, device: GPUDevice): number {
  const sizes = info as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  if (!device.features.has('subgroups') || !sizes?.subgroupMinSize || sizes.subgroupMinSize !== sizes.subgroupMaxSize) return 0;
  return sizes.subgroupMinSize;
}

/**
 * The device's fixed subgroup size if it divides every count given (tile widths, tiles, workgroup
 * size), else 0: what kernels that share loads through subgroup operations can rely on.
 */
export function subgroupSizeDividing(d: DeviceDescription, ...counts: number[]): number {
  return d.subgroupSize > 0 && counts.every((n) => n % d.subgroupSize === 0) ? d.subgroupSize : 0;
}

/** Describes `device`; `info` is its adapter's (by default the device's own `adapterInfo`, where the implementation has it). */
export function describeDevice(
  device: GPUDevice, info: GPUAdapterInfo | undefined = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo, backend = 'webgpu',
): DeviceDescription {
  const text = info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}` : '';
  const limits = {} as Record<LimitName, number>;
  for (const k of KEY_LIMITS) limits[k] = Number(device.limits[k]);
  const extra = info as unknown as { backendType?: string; isFallbackAdapter?: boolean } | undefined;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    backend: extra?.backendType ?? backend,
    software: SOFTWARE_ADAPTERS.test(text) || extra?.isFallbackAdapter === true,
    features: [...device.features].sort(),
    limits,
    subgroupSize: fixedSubgroupSize(info, device),
  };
}

function adapterText(a: GPUAdapter): string {
  const i = a.info;
  return `${i.vendor} ${i.architecture} ${i.device} ${i.description}`;
}

export interface AdapterChoice {
  /** A case-insensitive substring of the adapter's vendor/architecture/device/description. */
  adapter?: string;
  /** Where `adapter` came from, for the error when none matches. */
  source?: 'option' | 'environment';
  /**
   * 'adapter' (default): ask for the adapter's own limits where squeeze can use more than WebGPU's
   * defaults (bigger buffers and workgroups); 'default': WebGPU's default limits, as a page that
   * asks for nothing gets (kernels adapt to either).
   */
  limits?: 'adapter' | 'default';
  /** Appended to the error when there is no adapter at all (how to install a driver). */
  noAdapterHelp?: string;
  /** The backend's name where the adapter's info does not give it (Dawn in Node: 'vulkan'). */
  backend?: string;
}

/**
 * Opens a device on `gpu` (navigator.gpu, or Dawn's GPU object). `choice.adapter` picks an
 * adapter by name; by default a hardware adapter is preferred and a software one is the fallback.
 */
export async function requestDevice(gpu: GPU, choice: AdapterChoice = {}): Promise<OpenedDevice> {
  const candidates: GPUAdapter[] = [];
  for (const req of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }] as GPURequestAdapterOptions[]) {
    const a = await gpu.requestAdapter(req).catch(() => null);
    if (a && !candidates.some((c) => adapterText(c) === adapterText(a))) candidates.push(a);
  }
  if (candidates.length === 0) throw new NoAdapterError(`No WebGPU adapter found.${choice.noAdapterHelp ? ` ${choice.noAdapterHelp}` : ''}`);
  let adapter: GPUAdapter | undefined;
  const wanted = choice.adapter;
  if (wanted) {
    adapter = candidates.find((a) => adapterText(a).toLowerCase().includes(wanted.toLowerCase()));
    if (!adapter) {
      const available = candidates.map((a) => a.info.description || a.info.device || a.info.vendor);
      const from = choice.source === 'environment' ? 'SQUEEZE_ADAPTER' : 'the adapter option';
      throw new NoAdapterError(
        `No WebGPU adapter matches '${wanted}' (from ${from}); available: ${available.map((n) => `'${n}'`).join(', ')}.`,
        wanted, choice.source ?? 'option', available,
      );
    }
  } else {
    adapter = candidates.find((a) => !SOFTWARE_ADAPTERS.test(adapterText(a))) ?? candidates[0]!;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  if (choice.limits !== 'default') {
    for (const k of KEY_LIMITS) {
      if (k === 'minUniformBufferOffsetAlignment') continue;
      requiredLimits[k] = Number(adapter.limits[k]);
    }
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return { device, adapter, description: describeDevice(device, adapter.info, choice.backend) };
}

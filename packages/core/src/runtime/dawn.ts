/**
 * Node's WebGPU: Dawn, through npm `webgpu`. Only the package's `node` entry imports this module,
 * so a browser bundle never pulls Dawn in.
 */
import { create, globals } from 'webgpu';
import { requestDevice, type OpenedDevice } from './device.js';

// Dawn's node binding exposes the WebGPU constants (GPUBufferUsage, …) as `globals`.
Object.assign(globalThis, globals);
// Dawn's Vulkan loader warns when XDG_RUNTIME_DIR is unset; a harmless default keeps output clean.
process.env['XDG_RUNTIME_DIR'] ??= '/tmp';

let dawnInstance: GPU | null = null;

export const VULKAN_FIX =
  'Dawn needs a Vulkan driver. On Debian 12 run `bash scripts/setup-system.sh` (installs Mesa 25 ' +
  "lavapipe from bookworm-backports; Debian 12's own Mesa 22.3 is rejected by Dawn), elsewhere " +
  "install your GPU vendor's Vulkan driver or Mesa >= 23 (mesa-vulkan-drivers).";

export interface NodeDeviceOptions {
  /** Picks an adapter by a case-insensitive substring of its name (default: env SQUEEZE_ADAPTER, else a hardware adapter, else a software one). */
  adapter?: string;
  /** 'default': WebGPU's default limits instead of the adapter's (env SQUEEZE_DEFAULT_LIMITS=1 sets it too). */
  limits?: 'adapter' | 'default';
}

/** Dawn's GPU object (one per process), for opening devices of your own. */
export function dawn(): GPU {
  // The Dawn instance must outlive every device made from it: if it is garbage collected, Dawn's
  // event processing touches freed state and the process aborts at random (mutex errors,
  // segfaults). Keep it alive for the life of the process.
  // Dawn rounds GPU timestamps to 65.5 µs unless told otherwise; traces need kernel-level precision.
  return (dawnInstance ??= create(['disable-dawn-features=timestamp_quantization']));
}

/** Opens a WebGPU device through Dawn (see NodeDeviceOptions). */
export async function openDevice(opts: NodeDeviceOptions = {}): Promise<OpenedDevice> {
  const env = process.env['SQUEEZE_ADAPTER'];
  return requestDevice(dawn(), {
    adapter: opts.adapter ?? env,
    source: opts.adapter ? 'option' : 'environment',
    limits: opts.limits ?? (process.env['SQUEEZE_DEFAULT_LIMITS'] === '1' ? 'default' : 'adapter'),
    noAdapterHelp: VULKAN_FIX,
    backend: 'vulkan',
  });
}

import { describeDevice, NoAdapterError, requestDevice, type OpenedDevice } from './device.js';
import { Runtime, type RuntimeOptions } from './runtime.js';

export interface InitOptions {
  /**
   * A device you opened yourself (in a page, from navigator.gpu; in Node, from npm `webgpu`): squeeze
   * uses it as it is, reading the limits it was opened with, and leaves destroying it to you.
   */
  device?: GPUDevice;
  /** Without `device`: picks an adapter by a case-insensitive substring of its vendor, architecture or description. */
  adapter?: string;
  /** Without `device`: 'adapter' (default) asks for the adapter's limits, 'default' for WebGPU's default limits. */
  limits?: 'adapter' | 'default';
}

/**
 * How `init()` opens a device where none is given, and how runtimes behave, on one platform. The
 * standard one uses navigator.gpu (a page, a worker, Deno); the package's Node entry installs Dawn's.
 */
export interface Platform {
  open(opts: Omit<InitOptions, 'device'>): Promise<OpenedDevice>;
  runtime: RuntimeOptions;
  /** Runs before each runtime is made (Node: throttles Dawn's polling). */
  prepare?(): void;
}

const standardPlatform: Platform = {
  open(opts) {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new NoAdapterError('This JavaScript environment has no WebGPU (navigator.gpu); open a GPUDevice yourself and pass it: init({ device })');
    return requestDevice(gpu, { adapter: opts.adapter, source: 'option', limits: opts.limits });
  },
  runtime: { pacedReads: false },
};

let platform: Platform = standardPlatform;
let current: Runtime | null = null;

/** Replaces how `init()` opens devices (the Node entry installs Dawn's). */
export function setPlatform(p: Platform): void { platform = p; }

/** Opens the default GPU runtime (once); every tensor op uses it. */
export async function init(opts: InitOptions = {}): Promise<Runtime> {
  if (current) return current;
  platform.prepare?.();
  if (opts.device) {
    current = new Runtime(opts.device, describeDevice(opts.device), { ...platform.runtime, ownsDevice: false });
  } else {
    const { device, description } = await platform.open(opts);
    current = new Runtime(device, description, platform.runtime);
  }
  return current;
}

export function getRuntime(): Runtime {
  if (!current) throw new Error('squeeze is not initialised: call `await init()` first');
  return current;
}

export function hasRuntime(): boolean { return current !== null; }

/**
 * Ends the runtime: its device is destroyed (unless it was given to `init({ device })`) so the
 * process can exit; tensors created before are unusable afterwards.
 */
export function shutdown(): void {
  current?.destroy();
  current = null;
}

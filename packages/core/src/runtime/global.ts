import { Runtime } from './runtime.js';

let current: Runtime | null = null;

/** Opens the default GPU runtime (once); every tensor op uses it. */
export async function init(opts: { adapter?: string } = {}): Promise<Runtime> {
  if (current) return current;
  current = await Runtime.open(opts);
  return current;
}

export function getRuntime(): Runtime {
  if (!current) throw new Error('squeeze is not initialised: call `await init()` first');
  return current;
}

export function hasRuntime(): boolean { return current !== null; }

/** Destroys the device so the process can exit; tensors created before are unusable afterwards. */
export function shutdown(): void {
  current?.destroy();
  current = null;
}

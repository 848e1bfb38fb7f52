/**
 * The test page's script (bundled by browser.test.ts with esbuild for the browser). It runs the
 * workload twice: after `init()`, which opens a device from navigator.gpu with the adapter's
 * limits, and after `init({ device })` with a device it opened itself with WebGPU's default
 * limits. The results land in `window.squeezeResult` for the test to read.
 */
import { init, shutdown } from '@squeeze/core';
import { readmeSnippet, squeezeNetSteps } from './workload.js';

export interface PhaseResult {
  adapter: string;
  limits: Record<string, number>;
  snippet: { loss: number; grad: number[] };
  training: { losses: number[]; conv10Bias: number[]; stepMs: number[] };
  totalMs: number;
}
export interface PageResult { viaInit: PhaseResult; ownDevice: PhaseResult }

async function phase(open: () => Promise<unknown>): Promise<PhaseResult> {
  const t0 = performance.now();
  await open();
  const runtime = await init();
  const d = runtime.description;
  const snippet = await readmeSnippet();
  const training = await squeezeNetSteps();
  shutdown();
  return {
    adapter: `${d.vendor} ${d.architecture} ${d.device} ${d.description}`.trim(),
    limits: d.limits, snippet, training, totalMs: performance.now() - t0,
  };
}

async function main(): Promise<PageResult> {
  const viaInit = await phase(() => init());
  let device: GPUDevice | undefined;
  const ownDevice = await phase(async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('navigator.gpu gave no adapter');
    device = await adapter.requestDevice();
    return init({ device });
  });
  device?.destroy();
  return { viaInit, ownDevice };
}

const w = window as unknown as { squeezeResult?: PageResult | { error: string } };
main().then((r) => { w.squeezeResult = r; }, (e: unknown) => { w.squeezeResult = { error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) }; });

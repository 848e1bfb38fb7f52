/**
 * The test page's script (bundled by browser.test.ts with esbuild for the browser): opens a device
 * from navigator.gpu through `init()`, runs the workload and leaves its result in
 * `window.squeezeResult` for the test to read.
 */
import { init } from '@squeeze/core';
import { readmeSnippet, squeezeNetSteps } from './workload.js';

export interface PageResult {
  adapter: string;
  limits: Record<string, number>;
  features: string[];
  snippet: { loss: number; grad: number[] };
  training: { losses: number[]; conv10Bias: number[]; stepMs: number[] };
  totalMs: number;
}

async function main(): Promise<PageResult> {
  const t0 = performance.now();
  const runtime = await init();
  const d = runtime.description;
  const snippet = await readmeSnippet();
  const training = await squeezeNetSteps();
  return {
    adapter: `${d.vendor} ${d.architecture} ${d.device} ${d.description}`.trim(),
    limits: d.limits, features: d.features, snippet, training, totalMs: performance.now() - t0,
  };
}

const w = window as unknown as { squeezeResult?: PageResult | { error: string } };
main().then((r) => { w.squeezeResult = r; }, (e: unknown) => { w.squeezeResult = { error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) }; });

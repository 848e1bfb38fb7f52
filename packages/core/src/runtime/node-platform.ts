import { PipelineCache } from '@squeeze/kernels-wgsl';
import { openDevice } from './dawn.js';
import { setPlatform } from './global.js';
import { throttleNativePolling } from './polling.js';

/**
 * In Node, `init()` opens a device through Dawn; reads sleep for the GPU time they expect before
 * mapping (see Runtime.read) and Dawn's busy polling is throttled (see polling.ts): both are about
 * how Dawn's binding learns of finished work, which a page's event loop does not share.
 */
// SQUEEZE_HORIZONTAL_FUSION=1 or 0 turns the runtime's horizontal fusion on or off whatever the adapter.
const fusion = process.env.SQUEEZE_HORIZONTAL_FUSION;
setPlatform({
  open: (opts) => openDevice(opts),
  runtime: { pacedReads: true, ...(fusion === '1' || fusion === '0' ? { horizontalFusion: fusion === '1' } : {}) },
  prepare: throttleNativePolling,
});

// SQUEEZE_PIPELINE_LOG=<file>: one JSON line per new pipeline (time, kernel, key, WGSL hash, the test
// file or command that asked for it), for counting what a run compiles. Lavapipe compiles a pipeline
// at its first dispatch, so its cost shows in the duration of the test that asked for it, which the
// mocha hooks log at its end (testing/mocha-hooks.ts), not here.
const pipelineLog = process.env.SQUEEZE_PIPELINE_LOG;
if (pipelineLog) {
  const { appendFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  PipelineCache.onCompile = (kernel, key, wgsl) => {
    const from = /[\w./-]+\.test\.js/.exec(new Error().stack ?? '')?.[0]
      ?? (globalThis as { squeezeTestFile?: string }).squeezeTestFile ?? process.argv.slice(2, 4).join(' ');
    const hash = createHash('sha1').update(wgsl).digest('hex').slice(0, 12);
    appendFileSync(pipelineLog, JSON.stringify({ t: Date.now(), pid: process.pid, from, kernel, key, hash }) + '\n');
  };
}

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getRuntime } from '@squeeze/core';
import { makeTempDir } from '../data/test-helpers.js';
import { kernelCountLine, traceTraining } from './trace.js';

interface TraceEvent { name: string; ph: string; ts?: number; dur?: number; pid: number; tid: number; cat?: string; args?: Record<string, unknown> }

describe('squeeze trace', function () {
  // With an empty shader cache the first step compiles every pipeline of the model: over 5 minutes
  // on a loaded 2-core machine, where a cached run takes seconds.
  this.timeout(900_000);
  let out: string;
  before(() => { out = makeTempDir('trace'); });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('writes one Chrome trace per step with every kernel named by layer, inside the step', async () => {
    const lines: string[] = [];
    const r = await traceTraining({ steps: 2, batchSize: 2, dataFormat: 'NHWC', out, dataDir: path.join(out, 'no-data'), log: (l) => lines.push(l) });
    assert.deepEqual(r.files.map((f) => path.basename(f)), ['cifar_trace_0.json', 'cifar_trace_1.json']);
    const durations = lines.filter((l) => l.includes(' duration : ')).map((l) => Number(/duration : ([\d.]+) ms/.exec(l)![1]));
    assert.equal(durations.length, 2);
    // The pipelines are compiled before the first step, as `squeeze train` does (how many depends on
    // what this process compiled before), so the first step compiles none.
    assert.ok(lines.some((l) => /^Compiled \d+ GPU pipelines in parallel\.$/.test(l)), 'compile line');
    assert.equal(r.firstStepCompiles, 0, 'the first step compiles nothing');
    const summary = JSON.parse(lines[lines.length - 1]!);
    assert.deepEqual(Object.keys(summary).sort(), ['max', 'measurements', 'median', 'min']);
    assert.deepEqual(summary.measurements.map((m: number) => m.toFixed(3)), durations.map((d) => d.toFixed(3)));
    assert.equal(summary.min, Math.min(...summary.measurements));
    assert.equal(summary.max, Math.max(...summary.measurements));

    const k = r.kernels;
    assert.ok(k.forward > 0 && k.backward > 0 && k.optimizer > 0 && k.evaluation > 0, JSON.stringify(k));
    assert.equal(k.forward + k.backward + k.optimizer, k.total, 'the phases add up to the step');
    assert.match(kernelCountLine(k, 'NHWC', 2), new RegExp(`\\(NHWC, batch 2\\): ${k.total} = forward ${k.forward} \\+ backward ${k.backward} \\+ optimizer ${k.optimizer}; per evaluation batch: ${k.evaluation}$`));

    if (!getRuntime().hasTimestamps) return; // wall clock only on such adapters
    assert.equal(r.timestamps, true);
    for (const [i, file] of r.files.entries()) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] };
      const complete = json.traceEvents.filter((e) => e.ph === 'X');
      const gpu = complete.filter((e) => e.cat === 'gpu');
      const cpu = complete.filter((e) => e.cat === 'cpu');
      assert.deepEqual(cpu.map((e) => e.name), ['encode', 'submit', 'wait']);
      assert.ok(gpu.length > 100, `a training step runs many kernels (${gpu.length})`);
      const wallUs = durations[i]! * 1000;
      let sum = 0;
      for (const e of gpu) {
        assert.ok(e.ts! >= 0 && e.ts! + e.dur! <= wallUs + 1, `${e.name} lies inside the step`);
        assert.ok(typeof e.args?.['pipelineKey'] === 'string' && Array.isArray(e.args?.['workgroups']), 'kernel args');
        sum += e.dur!;
      }
      assert.ok(sum <= wallUs, `GPU kernel time ${sum} µs must be below the step's wall time ${wallUs} µs`);
      const names = new Set(gpu.map((e) => e.name));
      assert.ok([...names].some((n) => n.startsWith('fire3/expand3x3/')), 'forward kernels named by layer');
      assert.ok([...names].some((n) => /^fire3\/expand3x3\/.*(filter|backward)/.test(n)), 'backward kernels named by their layer');
      assert.ok([...names].some((n) => n.startsWith('optimizer/')), 'optimizer kernels');
      // Convolution kernels carry the path the planner chose (conv2d plan.ts, describeConvPath).
      const paths = new Set(gpu.filter((e) => e.name.startsWith('fire3/expand3x3/')).map((e) => e.args?.['path']).filter((p) => p !== undefined));
      assert.ok([...paths].some((p) => typeof p === 'string' && /^winograd-gemm F\(\d×\d,3×3\)/.test(p)), `fire3/expand3x3's paths: ${[...paths].join(', ')}`);
    }
    assert.ok(r.byKernel.length > 3);
    const pct = r.byKernel.reduce((a, k) => a + k.percent, 0);
    assert.ok(Math.abs(pct - 100) < 1e-6, 'kernel shares add up to 100%');
    // The tables cover the second step only; the first step's GPU time is reported apart.
    assert.deepEqual(r.tableSteps, { from: 2, to: 2 });
    const gpuEvents = (file: string) => (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents.filter((e) => e.ph === 'X' && e.cat === 'gpu');
    const msOf = (events: TraceEvent[]) => events.reduce((a, e) => a + e.dur!, 0) / 1000;
    const [first, second] = [gpuEvents(r.files[0]!), gpuEvents(r.files[1]!)];
    assert.ok(Math.abs(r.firstStepGpuMs - msOf(first)) < 1e-6, 'first step apart');
    assert.ok(Math.abs(r.byKernel.reduce((a, k) => a + k.totalMs, 0) - msOf(second)) < 1e-6, 'the kernel table is the second step\'s');
    assert.equal(r.byName.reduce((a, k) => a + k.count, 0), second.length, 'one call per kernel of the second step');
    assert.equal(second.length, k.total, 'the counted kernels are the traced ones');
    assert.equal(second.filter((e) => e.name.startsWith('optimizer/')).length, k.optimizer, 'the optimizer phase is the optimizer scope');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convTuningFor, getRuntime } from '@squeeze/core';
import { readBenchSteps } from '@squeeze/squeezenet';
import { BenchFilterError, runBench, type BenchResult } from './bench.js';
import type { ConvRow } from './kernels.js';
import { formatBench, writeBenchJson } from './report.js';
import { distinctConvShapes, gemmSizes, squeezeNetConvLayers } from './shapes.js';
import { KERNEL_KINDS, kernelKind } from './step.js';
import { measureTakingTurns, timingOf } from './measure.js';
import { defaultCandidates, sweepConvTunings, withFilter, withGemm } from './tuning-sweep.js';

const SOFTWARE_CONV_TUNING = convTuningFor({ software: true });
const HARDWARE_CONV_TUNING = convTuningFor({ software: false });

/** Relative closeness, for ratios recomputed from the rounded-free numbers of the same result. */
function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function assertTiming(row: { minMs: number; medianMs: number; maxMs: number; samplesMs: number[] }, reps: number, what: string): void {
  assert.equal(row.samplesMs.length, reps, `${what}: one sample per rep`);
  assert.ok(row.minMs > 0, `${what}: positive time`);
  assert.ok(row.minMs <= row.medianMs && row.medianMs <= row.maxMs, `${what}: min ≤ median ≤ max`);
}

describe('bench', () => {
  it('knows the 26 convolutions of SqueezeNet and their 22 distinct shapes', () => {
    const layers = squeezeNetConvLayers();
    assert.equal(layers.length, 26);
    assert.deepEqual(layers[0], { name: 'conv1', layers: ['conv1'], cin: 3, cout: 96, k: 2, size: 32 });
    assert.deepEqual(layers.at(-1), { name: 'conv10', layers: ['conv10'], cin: 512, cout: 10, k: 1, size: 1 });
    const shapes = distinctConvShapes();
    assert.equal(shapes.length, 22);
    assert.deepEqual(shapes.find((s) => s.name === 'fire2/expand3x3')?.layers, ['fire2/expand3x3', 'fire3/expand3x3']);
    assert.equal(shapes.reduce((n, s) => n + s.layers.length, 0), 26);
  });

  it('gives each conv pass its own GEMM sizes, all of the forward\'s operation count', () => {
    const fire2Expand3x3 = distinctConvShapes().find((s) => s.name === 'fire2/expand3x3')!;
    const pixels = 32 * 16 * 16;
    assert.deepEqual(gemmSizes(fire2Expand3x3, 32, 'forward'), { M: pixels, N: 64, K: 16 * 9 });
    assert.deepEqual(gemmSizes(fire2Expand3x3, 32, 'backward-data'), { M: pixels, N: 16 * 9, K: 64 });
    assert.deepEqual(gemmSizes(fire2Expand3x3, 32, 'backward-filter'), { M: 64, N: 16 * 9, K: pixels });
    assert.deepEqual(gemmSizes(fire2Expand3x3, 32), gemmSizes(fire2Expand3x3, 32, 'forward'));
  });

  it('sorts traced kernels into kinds by kernel name and scope', () => {
    assert.equal(kernelKind({ name: 'fire2/squeeze/conv2d_gemm', kernel: 'conv2d_gemm' }), 'conv');
    assert.equal(kernelKind({ name: 'fire4/expand3x3/conv2d_winograd_gemm/gemm_tiled', kernel: 'gemm_tiled' }), 'conv');
    assert.equal(kernelKind({ name: 'fire2/squeeze/conv2d_filter_gemm/gemm_tiled', kernel: 'gemm_tiled' }), 'conv');
    assert.equal(kernelKind({ name: 'fc/gemm_tiled', kernel: 'gemm_tiled' }), 'other');
    assert.equal(kernelKind({ name: 'pool1/pool_forward', kernel: 'pool_forward' }), 'pooling');
    assert.equal(kernelKind({ name: 'conv1/bn_apply', kernel: 'bn_apply' }), 'batchNorm');
    assert.equal(kernelKind({ name: 'fire2/concat/strided_copy', kernel: 'strided_copy' }), 'elementwise');
    assert.equal(kernelKind({ name: 'loss/cross_entropy_rows', kernel: 'cross_entropy_rows' }), 'loss');
    assert.equal(kernelKind({ name: 'optimizer/adam_step', kernel: 'adam_step' }), 'optimizer');
    assert.equal(kernelKind({ name: 'optimizer/fill', kernel: 'fill' }), 'optimizer');
  });

  it('measures several pieces of work taking turns, one sample each per round', async () => {
    const calls: number[] = [];
    const timings = await measureTakingTurns(getRuntime(), [0, 1, 2].map((k) => () => { calls.push(k); }), 1, 3);
    assert.deepEqual(calls, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'a warm-up round, then three timed rounds, in order');
    assert.deepEqual(timings.map((t) => t.samplesMs.length), [3, 3, 3]);
  });

  it('takes the middle of the sorted samples as the median', () => {
    assert.deepEqual(timingOf([3, 1, 2]), { minMs: 1, medianMs: 2, maxMs: 3, samplesMs: [3, 1, 2] });
    assert.equal(timingOf([4, 1, 2, 3]).medianMs, 2.5);
  });

  it('rejects a filter that selects nothing, naming what rows look like', async () => {
    await assert.rejects(runBench({ batchSize: 2, reps: 1, layouts: ['NCHW'], filter: 'no-such-row' }), (e: unknown) =>
      e instanceof BenchFilterError && /gemm fire2\/squeeze forward/.test(e.message) && /step NCHW/.test(e.message));
  });

  // One pass in both layouts: few pipelines to create (a conv kernel takes lavapipe seconds to compile).
  it('measures the selected conv rows and their GEMM ceiling, with consistent ratios in the JSON', async () => {
    const result = await runBench({ batchSize: 2, reps: 1, layouts: ['NCHW', 'NHWC'], filter: 'fire9/squeeze forward' });
    const dir = mkdtempSync(join(tmpdir(), 'squeeze-bench-'));
    let json: BenchResult;
    try {
      writeBenchJson(join(dir, 'nested', 'bench.json'), result);
      json = JSON.parse(readFileSync(join(dir, 'nested', 'bench.json'), 'utf8')) as BenchResult;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(!Number.isNaN(Date.parse(json.date)));
    assert.ok(json.adapter.vendor !== undefined && Array.isArray(json.adapter.features));
    assert.match(json.versions.node, /^v\d+/);
    assert.match(json.versions.webgpu, /^\d+\.\d+/);
    assert.equal(json.batchSize, 2);
    assert.equal(json.filter, 'fire9/squeeze forward');
    assert.deepEqual(json.steps, [], 'the filter selects no training step');
    assert.equal(json.stepMemory, null);
    assert.deepEqual(json.convStepTotals, [], 'no per-step conv total from a partial set of shapes');

    assert.equal(json.gemm.length, 1);
    const ceiling = json.gemm[0]!;
    assert.deepEqual([ceiling.name, ceiling.pass, ceiling.M, ceiling.N, ceiling.K], ['gemm fire9/squeeze forward', 'forward', 2 * 4 * 4, 64, 512]);
    assertTiming(ceiling, 1, ceiling.name);
    assertClose(ceiling.gflops, 2 * ceiling.M * ceiling.N * ceiling.K / (ceiling.medianMs * 1e6), 'ceiling GFLOP/s');

    assert.deepEqual(json.convs.map((r) => r.name), ['conv fire9/squeeze forward NCHW', 'conv fire9/squeeze forward NHWC']);
    const [nchw, nhwc] = json.convs as [ConvRow, ConvRow];
    for (const row of json.convs) {
      assertTiming(row, 1, row.name);
      assert.deepEqual([row.M, row.N, row.K], [ceiling.M, ceiling.N, ceiling.K]);
      assertClose(row.gflops, row.flop / (row.medianMs * 1e6), `${row.name} GFLOP/s`);
      assertClose(row.ceilingGflops, ceiling.gflops, `${row.name} ceiling`);
      assertClose(row.ratioToCeiling, row.gflops / ceiling.gflops, `${row.name} ratio to ceiling`);
      assertClose(row.nhwcOverNchw!, nhwc.medianMs / nchw.medianMs, `${row.name} NHWC/NCHW`);
      assert.equal(row.algorithm, 'implicit GEMM', `${row.name}: a 1×1 convolution`);
    }
    assert.match(formatBench(result), /fire9\/squeeze +forward +NHWC/);
  });

  // One layout: a cold step creates ~30 pipelines, 10–20 s of compiles on lavapipe without Mesa's disk cache.
  it('times training steps (compiles, cold and warm), splits a traced step by kernel kind, and keeps memory flat', async () => {
    const result = await runBench({ batchSize: 2, reps: 1, layouts: ['NHWC'], filter: 'step', stepWarmups: 1 });
    assert.deepEqual([result.gemm, result.convs], [[], []]);
    assert.deepEqual(result.steps.map((s) => [s.layout, s.batchSize]), [['NHWC', 2]]);
    for (const step of result.steps) {
      assert.ok(step.coldMs > 0 && step.compileMs > 0);
      // (pipelinesCompiled may be 0 here: earlier tests in this process can have made them all.)
      assert.equal(step.coldStepCompiles, 0, 'the pipeline warm-up covers every pipeline of a training step');
      assertTiming(step, 1, `step ${step.layout}`);
      assertClose(step.imagesPerSecond, 2000 / step.medianMs, 'images/s');
      const k = step.kernelCounts;
      assert.ok(k.forward > 0 && k.backward > 0 && k.optimizer > 0 && k.evaluation > 0, JSON.stringify(k));
      assert.equal(k.forward + k.backward + k.optimizer, k.total, 'the phases add up to the step');
      if (step.traced) assert.equal(step.traced.kernels, k.total, 'the traced step dispatched the counted kernels');
      if (result.kernelClock === 'gpu-timestamps') {
        const traced = step.traced!;
        assert.ok(traced.kernels > 0 && traced.totalMs > 0 && traced.wallMs > 0);
        assertClose(KERNEL_KINDS.reduce((ms, k) => ms + traced.byKind[k].ms, 0), traced.totalMs, 'kinds add up to the total');
        assert.equal(KERNEL_KINDS.reduce((n, k) => n + traced.byKind[k].count, 0), traced.kernels);
        assert.ok(traced.byKind.conv.count > 0 && traced.byKind.optimizer.count > 0);
      }
    }
    const pt = result.pytorch!;
    if (pt.available) {
      assert.equal(pt.samplesMs.length, 1, 'PyTorch timed in the same rounds as ours');
      const best = result.steps.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
      assertClose(pt.ratio, best.medianMs / pt.medianMs, 'ratio of medians');
      assert.equal(pt.parameters, pt.ourParameters, 'PyTorch builds our network');
      assert.match(formatBench(result), new RegExp(`the same network: ${pt.parameters} parameters, ours ${pt.ourParameters}`));
      assert.match(formatBench(result), /ours \(NHWC\) ÷ PyTorch/);
    } else {
      assert.match(formatBench(result), new RegExp(`PyTorch: not available — ${pt.reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    assert.match(formatBench({ ...result, pytorch: { available: false, reason: 'no Python with torch' } }), /^PyTorch: not available — no Python with torch$/m);
    const memory = result.stepMemory!;
    assert.ok(memory.before.rssBytes > 0 && memory.before.liveTensors > 0 && memory.before.poolHighWater > 0);
    assert.ok(memory.flat, `memory grew over the timed steps: ${JSON.stringify(memory)}`);
    // What 'squeeze plot --bench' reads from the file.
    const dir = mkdtempSync(join(tmpdir(), 'squeeze-bench-'));
    try {
      writeBenchJson(join(dir, 'bench.json'), result);
      assert.deepEqual(readBenchSteps(join(dir, 'bench.json')), result.steps.map((s) => ({ series: s.layout, batchSize: 2, medianMs: s.medianMs })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('conv tuning sweep', () => {
  it('candidates keep the base tuning\'s options, and each load-sharing option runs against off', () => {
    const { gemm, filter } = defaultCandidates(SOFTWARE_CONV_TUNING);
    for (const [name, t] of Object.entries(gemm)) {
      if (name === 'no subgroup weights') assert.equal(t.tiles.gemm.subgroupWeights, false);
      else if (name === 'no wider loads') assert.equal(t.tiles.gemm.pairLoads, false);
      else assert.ok(t.tiles.gemm.subgroupWeights && t.tiles.gemm.pairLoads, `${name} dropped an option of the base`);
      // A tile candidate is that tile for every layer; only 'current' keeps the base's wide tiles.
      assert.equal(t.tiles.gemm.wide, /^\d+x\d+ |^no wide tiles$/.test(name) ? undefined : SOFTWARE_CONV_TUNING.tiles.gemm.wide, name);
    }
    assert.ok('no wide tiles' in gemm);
    for (const [name, t] of Object.entries(filter)) {
      assert.equal(t.tiles.backwardFilter.NHWC.subgroupX, name !== 'no shared x rows', name);
    }
    assert.ok('no subgroup weights' in gemm && 'no wider loads' in gemm && 'no shared x rows' in filter);
    // Winograd-GEMM would take every pass of the 3×3 layers: only 'current' and its own candidates have it.
    for (const [name, t] of [...Object.entries(gemm), ...Object.entries(filter)]) {
      const expected = name === 'current' ? SOFTWARE_CONV_TUNING.tiles.winogradGemm : name.startsWith('winograd-gemm F(4') ? { m: 4, m2Below: 8 }
        : name.startsWith('winograd-gemm F(2') ? { m: 2, m2Below: 0 } : null;
      assert.equal(t.algorithms.winogradGemm, expected !== null, name);
      if (expected) assert.deepEqual(t.tiles.winogradGemm, expected, name);
    }
    assert.ok('no winograd-gemm' in gemm && 'no winograd-gemm' in filter);
  });

  it('times each candidate on each shape, pass and layout, and totals them per training step', async () => {
    // Small tiles that compile quickly on lavapipe; the shape is fire9/expand1x1 at batch 2.
    const base = withFilter(withGemm(HARDWARE_CONV_TUNING, 4, 4, 16, 1), 4, 4, 16, 32);
    const other = withGemm(withFilter(base, 4, 8, 16, 64), 8, 4, 16, 2);
    const shape = distinctConvShapes().find((s) => s.name === 'fire9/expand1x1')!;
    const { rows, totals } = await sweepConvTunings(getRuntime(), { gemm: { current: base, other }, filter: { current: base, other } }, { reps: 2, batchSize: 2, shapes: [shape] });
    assert.deepEqual(rows.map((r) => `${r.layout} ${r.pass}`), ['NCHW forward', 'NCHW backwardData', 'NCHW backwardFilter', 'NHWC forward', 'NHWC backwardData', 'NHWC backwardFilter']);
    for (const row of rows) {
      assert.equal(row.layers, 1);
      assert.deepEqual(Object.keys(row.medianMs), ['current', 'other']);
      for (const ms of Object.values(row.medianMs)) assert.ok(ms > 0 && Number.isFinite(ms));
      assertClose(totals[`${row.layout} ${row.pass} other`]!, row.medianMs['other']!, 'total of one shape');
    }
  });
});

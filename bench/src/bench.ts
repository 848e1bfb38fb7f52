import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getRuntime, hasRuntime, init, type DeviceDescription } from '@squeeze/core';
import {
  CONV_PASSES, convRowName, convStepTotals, gemmRowName, measureShape, relateConvRows,
  type ConvPass, type ConvRow, type ConvStepTotal, type GemmRow,
} from './kernels.js';
import { SqueezeNetCifar } from '@squeeze/squeezenet';
import { timingOf, type Clock } from './measure.js';
import { distinctConvShapes, type ConvShape } from './shapes.js';
import { PYTORCH_SCRIPT, PYTORCH_THREADS, PyTorchStep, findTorchPython, ompWaitPolicy, type PyTorchRow } from './pytorch.js';
import { benchTrainingSteps, stepRowName, type StepMemory, type StepRow } from './step.js';
import type { DataFormat } from '@squeeze/core';

export interface BenchOptions {
  batchSize: number;
  /** timed repetitions of every kernel and of the training step. */
  reps: number;
  layouts: readonly DataFormat[];
  /** only rows whose name contains this text (`gemm fire2/squeeze`, `conv conv1 forward NHWC`, `step NCHW`). */
  filter?: string;
  /** progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** untimed runs before a kernel is timed (default 2: the first compiles its pipelines). */
  kernelWarmups?: number;
  /** untimed training steps after the cold one (default 2). */
  stepWarmups?: number;
  /** time PyTorch's step beside ours when a Python with torch is found (default true). */
  pytorch?: boolean;
}

export interface BenchResult {
  /** ISO date and time the run started. */
  date: string;
  adapter: DeviceDescription;
  versions: { node: string; webgpu: string };
  /** environment variables that change what is measured, when set (e.g. MESA_SHADER_CACHE_DISABLE makes the cold step compile everything). */
  environment: Record<string, string>;
  batchSize: number;
  reps: number;
  kernelWarmups: number;
  stepWarmups: number;
  layouts: DataFormat[];
  filter: string | null;
  /** the clock of the kernel rows (GPU timestamps where the adapter has 'timestamp-query'); steps use the wall clock. */
  kernelClock: Clock;
  gemm: GemmRow[];
  convs: ConvRow[];
  /** all convolutions of one training step at the measured medians, per layout (only when every conv row ran). */
  convStepTotals: ConvStepTotal[];
  /** the shape 'squeeze plot --bench' reads. */
  steps: StepRow[];
  /** process and GPU memory before and after the timed training steps (all layouts together); null when no step ran. */
  stepMemory: StepMemory | null;
  /** PyTorch's step (bench/pytorch), timed taking turns with ours; null when no step ran or it was not asked for. */
  pytorch: PyTorchRow | null;
  durationS: number;
}

/** Thrown when --filter selects nothing: names the rows that exist. */
export class BenchFilterError extends Error {
  override name = 'BenchFilterError';
}

/**
 * Settings that change the figures: the adapter choice, llvmpipe's thread count, and Mesa's on-disk
 * shader cache, which lets a later run's cold step skip most of lavapipe's shader compiles.
 */
const RELEVANT_ENV = ['SQUEEZE_ADAPTER', 'MESA_SHADER_CACHE_DISABLE', 'MESA_SHADER_CACHE_DIR', 'LP_NUM_THREADS'];

const DEFAULT_KERNEL_WARMUPS = 2;
/**
 * Warm-up steps per layout before the timed ones. On llvmpipe the first steps of a process run
 * slower even with every pipeline compiled: a step's GPU time fell 1001 → 882 → 734 → 675 → ~620 ms
 * over steps 1–5 of a fresh process (2026-11-25, NHWC batch 32, page faults still 5–30k per step);
 * a long training run lives in the steady state, so that is what the warm figures report.
 */
const DEFAULT_STEP_WARMUPS = 5;

interface Plan {
  /** per shape: the passes whose GEMM ceiling runs, and the conv rows per layout. */
  shapes: Array<{ shape: ConvShape; ceilings: ConvPass[]; convs: Array<{ layout: DataFormat; passes: ConvPass[] }> }>;
  steps: DataFormat[];
}

/** Which rows run: those the filter selects, plus the GEMM ceiling of every selected conv row's pass (its ratio needs it). */
function plan(o: BenchOptions): Plan {
  const selected = (name: string): boolean => o.filter === undefined || name.includes(o.filter);
  const shapes: Plan['shapes'] = [];
  for (const shape of distinctConvShapes()) {
    const convs = o.layouts.map((layout) => ({ layout, passes: CONV_PASSES.filter((pass) => selected(convRowName(shape, pass, layout))) }))
      .filter((c) => c.passes.length > 0);
    const ceilings = CONV_PASSES.filter((pass) => selected(gemmRowName(shape, pass)) || convs.some((c) => c.passes.includes(pass)));
    if (ceilings.length > 0) shapes.push({ shape, ceilings, convs });
  }
  return { shapes, steps: o.layouts.filter((layout) => selected(stepRowName(layout))) };
}

/** Trainable scalars of our SqueezeNet-for-CIFAR (compared with PyTorch's). */
function ourParameterCount(): number {
  const model = new SqueezeNetCifar({ dataFormat: 'NHWC', seed: 1 });
  let n = 0;
  for (const [, p] of model.namedParameters()) n += p.size;
  model.dispose();
  return n;
}

/** PyTorch's step running beside ours, or why it cannot (never fails the bench). */
async function startPyTorch(batchSize: number, log: (line: string) => void): Promise<{ step: PyTorchStep } | { available: false; reason: string }> {
  const found = findTorchPython();
  if ('reason' in found) return { available: false, reason: found.reason };
  try {
    log(`PyTorch: ${found.python} ${PYTORCH_SCRIPT}`);
    return { step: await PyTorchStep.start(found.python, batchSize) };
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
}

/** The webgpu package (Dawn) that @squeeze/core loads. */
function webgpuVersion(): string {
  try {
    const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@squeeze/core'));
    return (JSON.parse(readFileSync(requireFromCore.resolve('webgpu/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Measures, at one batch size: the fast GEMM at the M, N, K of every conv shape's passes (the ceilings); every
 * distinct SqueezeNet convolution's forward, backward-data and backward-filter per layout; whole
 * training steps per layout (cold, then warm, the layouts taking turns), with a per-kernel-kind split
 * of one traced step and memory before and after. Steps run first, so that their cold step creates
 * its own pipelines. Uses the open runtime, or opens one (SQUEEZE_ADAPTER picks the adapter).
 */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const started = performance.now();
  const date = new Date().toISOString();
  const p = plan(o);
  if (p.shapes.length === 0 && p.steps.length === 0) {
    throw new BenchFilterError(
      `--filter '${o.filter}' selects no benchmark; names look like '${gemmRowName(distinctConvShapes()[1]!, 'forward')}', ` +
      `'${convRowName(distinctConvShapes()[1]!, 'backward-filter', 'NHWC')}', '${stepRowName('NCHW')}'`,
    );
  }
  if (!hasRuntime()) await init();
  const rt = getRuntime();
  const kernelWarmups = o.kernelWarmups ?? DEFAULT_KERNEL_WARMUPS;
  const stepWarmups = o.stepWarmups ?? DEFAULT_STEP_WARMUPS;
  const kernelClock: Clock = rt.hasTimestamps ? 'gpu-timestamps' : 'wall-clock';
  log(`bench on ${rt.description.description || rt.description.device}, batch ${o.batchSize}, ${o.reps} reps; kernel times: ${kernelClock}`);

  let steps: StepRow[] = [];
  let stepMemory: StepMemory | null = null;
  let pytorch: PyTorchRow | null = null;
  if (p.steps.length > 0) {
    log(`${p.steps.map(stepRowName).join(', ')}: a cold step each, ${stepWarmups} warm-ups, then ${o.reps} timed steps taking turns`);
    const torch = o.pytorch === false ? null : await startPyTorch(o.batchSize, log);
    try {
      let pytorchMs: number[];
      ({ steps, memory: stepMemory, pytorchMs } = await benchTrainingSteps(rt, p.steps, o.batchSize, {
        warmups: stepWarmups, reps: o.reps, log, pytorch: torch && 'step' in torch ? torch.step : undefined,
      }));
      for (const s of steps) log(`${stepRowName(s.layout)}: median ${s.medianMs.toFixed(0)} ms, ${s.imagesPerSecond.toFixed(1)} images/s`);
      if (torch && 'step' in torch) {
        const timing = timingOf(pytorchMs);
        const best = steps.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
        pytorch = {
          available: true, python: torch.step.python, torchVersion: torch.step.torchVersion, threads: PYTORCH_THREADS, ompWaitPolicy: ompWaitPolicy(),
          parameters: await torch.step.parameters(), ourParameters: ourParameterCount(), ...timing, ratio: best.medianMs / timing.medianMs, bestLayout: best.layout,
        };
        log(`PyTorch ${torch.step.torchVersion}: median ${timing.medianMs.toFixed(0)} ms; ours (${best.layout}) ÷ PyTorch ${pytorch.ratio.toFixed(2)}`);
      } else if (torch) {
        pytorch = torch;
      }
    } finally {
      if (torch && 'step' in torch) torch.step.close();
    }
  }

  const measure = { warmups: kernelWarmups, reps: o.reps };
  const gemm: GemmRow[] = [];
  const convs: ConvRow[] = [];
  const total = p.shapes.reduce((n, s) => n + s.ceilings.length + s.convs.reduce((m, c) => m + c.passes.length, 0), 0);
  let done = 0;
  const progress = (name: string, ms: number, gflops: number): void => {
    done++;
    log(`[${done}/${total}] ${name}: median ${ms.toFixed(2)} ms, ${gflops.toFixed(2)} GFLOP/s`);
  };
  for (const { shape, ceilings, convs: selected } of p.shapes) {
    const rows = await measureShape(rt, shape, ceilings, selected, o.batchSize, measure, progress);
    gemm.push(...rows.gemm);
    convs.push(...rows.convs);
  }
  relateConvRows(convs, gemm);

  return {
    date, adapter: rt.description, versions: { node: process.version, webgpu: webgpuVersion() },
    environment: Object.fromEntries(RELEVANT_ENV.flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : []))),
    batchSize: o.batchSize, reps: o.reps, kernelWarmups, stepWarmups, layouts: [...o.layouts], filter: o.filter ?? null, kernelClock,
    gemm, convs, convStepTotals: convStepTotals(convs, distinctConvShapes(), o.layouts), steps, stepMemory, pytorch,
    durationS: (performance.now() - started) / 1000,
  };
}

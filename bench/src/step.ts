import { Adam, Random, memory, type KernelSpan, type Runtime } from '@squeeze/core';
import { ADAM, SqueezeNetCifar, countKernels, encodeEvalBatch, encodeTrainStep, warmModelPipelines, type StepKernelCounts } from '@squeeze/squeezenet';
import { gpuMsOf, timingOf, type Timing } from './measure.js';
import type { PyTorchStep } from './pytorch.js';
import type { DataFormat } from '@squeeze/core';

/** Kinds of kernel a training step's GPU time is split into. */
export const KERNEL_KINDS = ['conv', 'pooling', 'batchNorm', 'elementwise', 'loss', 'optimizer', 'other'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];

/**
 * The kind of a traced kernel, from its kernel name and the layer scope it ran under: everything
 * under the `optimizer` scope (Adam's update) is optimizer time, everything named or scoped
 * conv2d_* convolution; element-wise includes copies (concat, pad, broadcasts) and reductions.
 */
export function kernelKind(span: Pick<KernelSpan, 'name' | 'kernel'>): KernelKind {
  const k = span.kernel;
  if (span.name.startsWith('optimizer/') || /^(adam|sgd)_step$/.test(k)) return 'optimizer';
  // Kernels run under a conv2d_ scope are convolution too (Winograd's batched GEMM: WINOGRAD_GEMM_SCOPE).
  if (k.startsWith('conv2d_') || span.name.split('/').some((s) => s.startsWith('conv2d_'))) return 'conv';
  if (k.includes('pool')) return 'pooling';
  if (k.startsWith('bn_')) return 'batchNorm';
  if (k.startsWith('cross_entropy') || k.startsWith('softmax')) return 'loss';
  if (/^(unary|binary_|fill|broadcast_to|strided_copy|pad|reduce|dropout)/.test(k)) return 'elementwise';
  return 'other';
}

export interface KernelKindTotals {
  /** GPU ms of all kernels of one traced step (buffer copies are not kernels and carry no timestamps). */
  totalMs: number;
  kernels: number;
  byKind: Record<KernelKind, { ms: number; count: number }>;
}

export function kernelKindTotals(spans: readonly KernelSpan[]): KernelKindTotals {
  const byKind = Object.fromEntries(KERNEL_KINDS.map((k) => [k, { ms: 0, count: 0 }])) as Record<KernelKind, { ms: number; count: number }>;
  for (const s of spans) {
    const entry = byKind[kernelKind(s)];
    entry.ms += gpuMsOf([s]);
    entry.count++;
  }
  return { totalMs: gpuMsOf(spans), kernels: spans.length, byKind };
}

export interface MemorySnapshot {
  /** resident set size of the process (CPU memory; the GPU heap of a software adapter lives here too). */
  rssBytes: number;
  liveTensors: number;
  bytesInUse: number;
  bytesPooled: number;
  poolHighWater: number;
  buffersCreated: number;
}

export function memorySnapshot(): MemorySnapshot {
  return { rssBytes: process.memoryUsage().rss, ...memory() };
}

/** One layout's training steps; --filter selects it as `step <layout>` (no `name`: 'squeeze plot --bench' names a series by layout). */
export interface StepRow extends Timing {
  layout: DataFormat;
  batchSize: number;
  /**
   * Compiling, in parallel, the pipelines of a training step and an evaluation pass before the first
   * step, as `squeeze train` does (wall clock; 0 when another layout's run made them all already).
   */
  compileMs: number;
  /** how many pipelines that compiled. */
  pipelinesCompiled: number;
  /** the first step of the fresh model, after those compiles (wall clock): first-use costs the compiles leave. */
  coldMs: number;
  /** pipelines the first step still had to make (none when the warm-up covers the step). */
  coldStepCompiles: number;
  /** untimed steps between the cold one and the timed ones. */
  warmups: number;
  imagesPerSecond: number;
  /** kernels dispatched by one training step, by phase, and by one evaluation batch of the same size. */
  kernelCounts: StepKernelCounts & { evaluation: number };
  /** one step traced after the timed ones: its wall time and its GPU time by kind of kernel; null without 'timestamp-query'. */
  traced: (KernelKindTotals & { wallMs: number }) | null;
}

/** Memory before and after the timed steps: a steady training loop neither leaks tensors nor creates buffers. */
export interface StepMemory { before: MemorySnapshot; after: MemorySnapshot; flat: boolean }

/** The sample's default learning rate (the step's cost does not depend on it). */
const LEARNING_RATE = 1e-3;
const SEED = 1337;
const CIFAR_PIXELS = 3 * 32 * 32;
const CLASSES = 10;

export const stepRowName = (layout: DataFormat): string => `step ${layout}`;

/** A fresh SqueezeNet and Adam in one layout, training on one random batch (kernel times do not depend on pixel values). */
class StepRunner {
  private readonly model: SqueezeNetCifar;
  private readonly optimizer: Adam;
  private readonly xs: Float32Array;
  private readonly ys: Int32Array;
  /** the kernels of the last step, by phase. */
  lastCounts: StepKernelCounts = { forward: 0, backward: 0, optimizer: 0, total: 0 };

  constructor(readonly layout: DataFormat, readonly batchSize: number) {
    this.model = new SqueezeNetCifar({ dataFormat: layout, seed: SEED });
    this.optimizer = new Adam(this.model.namedParameters(), { lr: LEARNING_RATE, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
    const rng = new Random(SEED);
    this.xs = Float32Array.from({ length: batchSize * CIFAR_PIXELS }, () => rng.next());
    this.ys = Int32Array.from({ length: batchSize }, () => rng.int(CLASSES));
  }

  /** Compiles the pipelines of this model's training step (and an evaluation pass) in parallel, as `squeeze train` does first. */
  async compilePipelines(): Promise<{ ms: number; pipelines: number }> {
    const t0 = performance.now();
    const pipelines = await warmModelPipelines(this.model, this.batchSize, this.batchSize, this.optimizer);
    return { ms: performance.now() - t0, pipelines };
  }

  /** One step, from encoding to the loss read back; returns its wall-clock ms. */
  async step(): Promise<number> {
    const t0 = performance.now();
    const [loss, predictions, counts] = encodeTrainStep(this.model, this.optimizer, this.xs, this.ys, this.batchSize);
    await loss.data();
    const ms = performance.now() - t0;
    loss.dispose();
    predictions.dispose();
    this.lastCounts = counts;
    return ms;
  }

  /** Kernels of one evaluation batch (the model's training mode restored after it). */
  async evaluationKernels(): Promise<number> {
    this.model.eval();
    try {
      const [predictions, kernels] = countKernels(() => encodeEvalBatch(this.model, this.xs, this.batchSize));
      await predictions.data();
      predictions.dispose();
      return kernels;
    } finally {
      this.model.train();
    }
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Whole training steps (forward, loss, backward, Adam) of a fresh SqueezeNet per layout, timed by
 * the wall clock from encoding to the loss read back: what a training loop sees per step. Each
 * layout's pipelines are compiled in parallel first and timed apart (as `squeeze train` starts),
 * then its cold first step is timed on its own; then `warmups` untimed steps; then `reps` timed
 * ones, the layouts (and PyTorch's step, when given) taking turns so that a change in the machine's
 * load hits all alike; then one step per layout traced kernel by kernel.
 */
export async function benchTrainingSteps(
  rt: Runtime, layouts: readonly DataFormat[], batchSize: number,
  o: { warmups: number; reps: number; log?: (line: string) => void; pytorch?: PyTorchStep },
): Promise<{ steps: StepRow[]; memory: StepMemory; pytorchMs: number[] }> {
  const log = o.log ?? (() => {});
  const runners: StepRunner[] = [];
  try {
    await rt.sync();
    const cold: Array<Pick<StepRow, 'compileMs' | 'pipelinesCompiled' | 'coldMs' | 'coldStepCompiles'>> = [];
    for (const layout of layouts) {
      const runner = new StepRunner(layout, batchSize);
      runners.push(runner);
      const compiled = await runner.compilePipelines();
      const compilesBefore = rt.cache.stats.compiles;
      const coldMs = await runner.step();
      cold.push({ compileMs: compiled.ms, pipelinesCompiled: compiled.pipelines, coldMs, coldStepCompiles: rt.cache.stats.compiles - compilesBefore });
      log(`${stepRowName(layout)}: ${compiled.pipelines} pipelines compiled in ${compiled.ms.toFixed(0)} ms, then a cold step of ${coldMs.toFixed(0)} ms`);
    }
    for (let i = 0; i < o.warmups; i++) {
      for (const runner of runners) await runner.step();
      await o.pytorch?.step();
    }
    const before = memorySnapshot();
    const samples: number[][] = runners.map(() => []);
    const pytorchMs: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      for (const [r, runner] of runners.entries()) samples[r]!.push(await runner.step());
      if (o.pytorch) pytorchMs.push(await o.pytorch.step());
      log(`steps ${i + 1}/${o.reps}: ${runners.map((runner, r) => `${runner.layout} ${samples[r]![i]!.toFixed(0)} ms`).join(', ')}` +
        (o.pytorch ? `, PyTorch ${pytorchMs[i]!.toFixed(0)} ms` : ''));
    }
    const after = memorySnapshot();
    const steps: StepRow[] = [];
    for (const [r, runner] of runners.entries()) {
      let traced: StepRow['traced'] = null;
      if (rt.hasTimestamps) {
        rt.beginTrace();
        let wallMs = 0;
        let spans: KernelSpan[];
        try { wallMs = await runner.step(); } finally { spans = await rt.endTrace(); }
        traced = { ...kernelKindTotals(spans), wallMs };
      }
      const timing = timingOf(samples[r]!);
      const kernelCounts = { ...runner.lastCounts, evaluation: await runner.evaluationKernels() };
      steps.push({
        layout: runner.layout, batchSize, ...cold[r]!, warmups: o.warmups, ...timing,
        imagesPerSecond: (batchSize * 1000) / timing.medianMs, kernelCounts, traced,
      });
    }
    const flat = after.liveTensors === before.liveTensors && after.buffersCreated === before.buffersCreated && after.poolHighWater === before.poolHighWater;
    return { steps, memory: { before, after, flat }, pytorchMs };
  } finally {
    for (const runner of runners) runner.dispose();
  }
}

import { Adam, Random, memory, type KernelSpan, type Runtime } from '@squeeze/core';
import { ADAM, SqueezeNetCifar, encodeTrainStep } from '@squeeze/squeezenet';
import { gpuMsOf, timingOf, type Timing } from './measure.js';
import type { Layout } from './kernels.js';

/** Kinds of kernel a training step's GPU time is split into. */
export const KERNEL_KINDS = ['conv', 'pooling', 'batchNorm', 'elementwise', 'loss', 'optimizer', 'other'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];

/**
 * The kind of a traced kernel, from its kernel name and the layer scope it ran under: everything
 * under the `optimizer` scope (Adam's update) is optimizer time; element-wise includes copies
 * (concat, pad, broadcasts) and reductions.
 */
export function kernelKind(span: Pick<KernelSpan, 'name' | 'kernel'>): KernelKind {
  const k = span.kernel;
  if (span.name.startsWith('optimizer/') || /^(adam|sgd)_step$/.test(k)) return 'optimizer';
  if (k.startsWith('conv2d_')) return 'conv';
  if (k.includes('pool')) return 'pooling';
  if (k.startsWith('bn_')) return 'batchNorm';
  if (k.startsWith('cross_entropy') || k.startsWith('softmax')) return 'loss';
  if (/^(unary|binary_|fill|broadcast_to|strided_copy|pad|reduce|dropout)/.test(k)) return 'elementwise';
  return 'other';
}

export interface KernelKindTotals {
  /** GPU ms of all kernels of one traced step. */
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

export interface StepRow extends Timing {
  /** `step <layout>`; --filter matches it. */
  name: string;
  layout: Layout;
  batchSize: number;
  /** the first step of a fresh model, pipeline compiles included (wall clock). */
  coldMs: number;
  /** untimed steps between the cold one and the timed ones. */
  warmups: number;
  imagesPerSecond: number;
  /** GPU time of one traced step after the timed ones, by kind of kernel; null without 'timestamp-query'. */
  traced: KernelKindTotals | null;
  /** before and after the timed steps: a steady training loop neither leaks tensors nor creates buffers. */
  memory: { before: MemorySnapshot; after: MemorySnapshot; flat: boolean };
}

/** The sample's default learning rate (the step's cost does not depend on it). */
const LEARNING_RATE = 1e-3;
const SEED = 1337;
const CIFAR_PIXELS = 3 * 32 * 32;
const CLASSES = 10;

export const stepRowName = (layout: Layout): string => `step ${layout}`;

/**
 * Whole training steps (forward, loss, backward, Adam) of a fresh SqueezeNet on one random batch,
 * timed by the wall clock from encoding to the loss read back: what a training loop sees per step.
 * The cold first step is timed on its own; then `warmups` untimed steps; then `reps` timed ones;
 * then one step traced kernel by kernel.
 */
export async function benchTrainingStep(
  rt: Runtime, layout: Layout, batchSize: number, o: { warmups: number; reps: number; log?: (line: string) => void },
): Promise<StepRow> {
  const model = new SqueezeNetCifar({ dataFormat: layout, seed: SEED });
  const optimizer = new Adam(model.namedParameters(), { lr: LEARNING_RATE, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
  // Kernel times do not depend on pixel values: one random batch serves every step.
  const rng = new Random(SEED);
  const xs = Float32Array.from({ length: batchSize * CIFAR_PIXELS }, () => rng.next());
  const ys = Int32Array.from({ length: batchSize }, () => rng.int(CLASSES));
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const [loss, predictions] = encodeTrainStep(model, optimizer, xs, ys, batchSize, layout);
    await loss.data();
    const ms = performance.now() - t0;
    loss.dispose();
    predictions.dispose();
    return ms;
  };
  try {
    await rt.sync();
    const coldMs = await step();
    o.log?.(`  cold step ${coldMs.toFixed(0)} ms`);
    for (let i = 0; i < o.warmups; i++) await step();
    const before = memorySnapshot();
    const samples: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      samples.push(await step());
      o.log?.(`  step ${i + 1}/${o.reps} ${samples[i]!.toFixed(0)} ms`);
    }
    const after = memorySnapshot();
    let traced: KernelKindTotals | null = null;
    if (rt.hasTimestamps) {
      rt.beginTrace();
      let spans: KernelSpan[];
      try { await step(); } finally { spans = await rt.endTrace(); }
      traced = kernelKindTotals(spans);
    }
    const timing = timingOf(samples);
    const flat = after.liveTensors === before.liveTensors && after.buffersCreated === before.buffersCreated && after.poolHighWater === before.poolHighWater;
    return {
      name: stepRowName(layout), layout, batchSize, coldMs, warmups: o.warmups, ...timing,
      imagesPerSecond: (batchSize * 1000) / timing.medianMs, traced, memory: { before, after, flat },
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

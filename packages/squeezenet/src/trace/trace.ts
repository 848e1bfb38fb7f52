import * as fs from 'node:fs';
import * as path from 'node:path';
import { Adam, Random, getRuntime, hasRuntime, init, type KernelSpan } from '@squeeze/core';
import { loadDataset, TrainBatcher, DataError } from '../data/index.js';
import { ChromeTrace, summariseDurations, type DurationSummary } from '../formats/index.js';
import { SqueezeNetCifar } from '../model/squeezenet.js';
import type { DataFormat } from '@squeeze/core';
import { ADAM, countKernels, encodeEvalBatch, encodeTrainStep, warmModelPipelines, type StepKernelCounts } from '../train/train.js';

export interface TraceOptions {
  steps: number;
  batchSize: number;
  dataFormat: DataFormat;
  out: string;
  dataDir?: string;
  seed?: number;
  adapter?: string;
  log?: (line: string) => void;
}

export interface KernelTotal { name: string; totalMs: number; count: number; percent: number }

export interface TraceResult {
  files: string[];
  /** every step's wall-clock duration, the first included (as the sample prints them) */
  summary: DurationSummary;
  /**
   * GPU time per kernel type (e.g. conv2d_backward_filter) over the steps after the first, largest
   * first; with a single step, over that step. The first step runs each kernel for the first time
   * (lavapipe compiles its shader code then), so it is counted apart: `firstStepGpuMs`.
   */
  byKernel: KernelTotal[];
  /** GPU time per layer and kernel (e.g. fire3/expand3x3/conv2d_backward_filter), over the same steps. */
  byName: KernelTotal[];
  /** the steps the tables cover (1-based, inclusive) */
  tableSteps: { from: number; to: number };
  /** the first step's GPU time, kept out of the tables when there are later steps */
  firstStepGpuMs: number;
  /** pipelines compiled before the first step */
  pipelinesCompiled: number;
  /** pipelines the first step still had to compile (0 when the compile before it was complete) */
  firstStepCompiles: number;
  timestamps: boolean;
  /** kernels the last traced step dispatched, by phase, and one evaluation batch of the same size after it. */
  kernels: StepKernelCounts & { evaluation: number };
}

const GPU_PID = 1;
const CPU_PID = 2;

/**
 * Runs training steps of a fresh model with GPU timestamps around every kernel (resolved once per
 * step) and writes `cifar_trace_<i>.json` per step in Chrome trace-event format: a GPU track with
 * each kernel named by layer and op, and a CPU track (encode, submit, wait). The pipelines are
 * compiled first, as `train` does. Never touches the user's checkpoints. Without 'timestamp-query'
 * only wall-clock step times are measured.
 */
export async function traceTraining(o: TraceOptions): Promise<TraceResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (!hasRuntime()) await init({ adapter: o.adapter });
  const rt = getRuntime();
  fs.mkdirSync(o.out, { recursive: true });
  const nextBatch = batchSource(o, log);
  const model = new SqueezeNetCifar({ dataFormat: o.dataFormat, seed: o.seed ?? 1337 });
  const optimizer = new Adam(model.namedParameters(), { lr: 1e-3, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
  const timestamps = rt.hasTimestamps;
  if (!timestamps) log('This adapter has no timestamp-query: tracing wall-clock step times only.');
  const files: string[] = [];
  const durations: number[] = [];
  const totals = new Map<string, { ms: number; count: number }>();
  const byKernel = new Map<string, { ms: number; count: number }>();
  // The tables leave the first step out when there are others (see TraceResult.byKernel).
  const firstTabled = o.steps > 1 ? 1 : 0;
  let gpuTotalMs = 0;
  let firstStepGpuMs = 0;
  let pipelinesCompiled = 0;
  let firstStepCompiles = 0;
  let kernels = { forward: 0, backward: 0, optimizer: 0, total: 0, evaluation: 0 };
  try {
    pipelinesCompiled = await warmModelPipelines(model, o.batchSize, o.batchSize, optimizer);
    log(`Compiled ${pipelinesCompiled} GPU pipelines in parallel.`);
    const compilesBefore = rt.cache.stats.compiles;
    for (let i = 0; i < o.steps; i++) {
      const batch = nextBatch();
      const t0 = performance.now();
      if (timestamps) rt.beginTrace();
      const tEncode = performance.now();
      const [loss, pred, counts] = encodeTrainStep(model, optimizer, batch.x, batch.y, o.batchSize);
      kernels = { ...counts, evaluation: 0 };
      const tEncoded = performance.now();
      rt.flush();
      const tSubmitted = performance.now();
      await loss.data();
      const tDone = performance.now();
      if (i === 0) firstStepCompiles = rt.cache.stats.compiles - compilesBefore;
      loss.dispose();
      pred.dispose();
      const spans: KernelSpan[] = timestamps ? await rt.endTrace() : [];
      const duration = tDone - t0;
      durations.push(duration);
      const trace = new ChromeTrace();
      trace.nameProcess(GPU_PID, `GPU (${rt.description.description})`);
      trace.nameThread(GPU_PID, 1, 'kernels');
      trace.nameProcess(CPU_PID, 'CPU');
      trace.nameThread(CPU_PID, 1, 'training step');
      trace.addComplete({ name: 'encode', cat: 'cpu', ts: us(tEncode - t0), dur: us(tEncoded - tEncode), pid: CPU_PID, tid: 1 });
      trace.addComplete({ name: 'submit', cat: 'cpu', ts: us(tEncoded - t0), dur: us(tSubmitted - tEncoded), pid: CPU_PID, tid: 1 });
      trace.addComplete({ name: 'wait', cat: 'cpu', ts: us(tSubmitted - t0), dur: us(tDone - tSubmitted), pid: CPU_PID, tid: 1 });
      const valid = spans.filter((s) => s.startNs !== undefined && s.endNs !== undefined && s.endNs >= s.startNs);
      if (valid.length > 0) {
        // GPU clocks are not the CPU's: place the first kernel at the start of encoding (work is
        // submitted while encoding continues) and keep the GPU's own intervals after it.
        const base = Math.min(...valid.map((s) => s.startNs!));
        const offsetUs = us(tEncode - t0);
        const stepEndUs = us(duration);
        for (const s of valid) {
          const ts = Math.min(offsetUs + (s.startNs! - base) / 1000, stepEndUs);
          const dur = Math.max(0, Math.min((s.endNs! - s.startNs!) / 1000, stepEndUs - ts));
          trace.addComplete({
            name: s.name, cat: 'gpu', ts, dur, pid: GPU_PID, tid: 1,
            args: { kernel: s.kernel, pipelineKey: s.pipelineKey, workgroups: s.workgroups, ...(s.args ?? {}) },
          });
          const ms = dur / 1000;
          if (i === 0) firstStepGpuMs += ms;
          if (i < firstTabled) continue;
          gpuTotalMs += ms;
          add(totals, s.name, ms);
          add(byKernel, s.kernel, ms);
        }
      }
      const file = path.join(o.out, `cifar_trace_${i}.json`);
      trace.write(file);
      files.push(file);
      log(`${path.basename(file)} duration : ${duration.toFixed(3)} ms`);
      if (i === o.steps - 1) {
        model.eval();
        const [predictions, evaluation] = countKernels(() => encodeEvalBatch(model, batch.x, o.batchSize));
        await predictions.data();
        predictions.dispose();
        model.train();
        kernels.evaluation = evaluation;
      }
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  const summary = summariseDurations(durations);
  log(JSON.stringify(summary));
  const rank = (m: Map<string, { ms: number; count: number }>): KernelTotal[] =>
    [...m.entries()].map(([name, v]) => ({ name, totalMs: v.ms, count: v.count, percent: gpuTotalMs > 0 ? (100 * v.ms) / gpuTotalMs : 0 }))
      .sort((a, b) => b.totalMs - a.totalMs);
  return {
    files, summary, byKernel: rank(byKernel), byName: rank(totals), tableSteps: { from: firstTabled + 1, to: o.steps },
    firstStepGpuMs, pipelinesCompiled, firstStepCompiles, timestamps, kernels,
  };
}

function us(ms: number): number { return ms * 1000; }

function add(m: Map<string, { ms: number; count: number }>, k: string, ms: number): void {
  const v = m.get(k) ?? { ms: 0, count: 0 };
  v.ms += ms;
  v.count++;
  m.set(k, v);
}

/** Training batches from the prepared dataset, or random images when none is prepared. */
function batchSource(o: TraceOptions, log: (l: string) => void): () => { x: Float32Array; y: Int32Array } {
  try {
    const data = loadDataset(o.dataDir ?? 'data');
    const batcher = new TrainBatcher(data.train, { batchSize: o.batchSize, seed: o.seed ?? 1337, flip: true });
    return () => batcher.next(o.dataFormat);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    log(`No dataset prepared in ${o.dataDir ?? 'data'}: tracing on random images (kernel times do not depend on pixel values).`);
    const rng = new Random(o.seed ?? 1337);
    return () => {
      const x = new Float32Array(o.batchSize * 3072);
      for (let i = 0; i < x.length; i++) x[i] = rng.next();
      const y = new Int32Array(o.batchSize);
      for (let i = 0; i < y.length; i++) y[i] = rng.int(10);
      return { x, y };
    };
  }
}

/** One line: a step's kernels by phase and an evaluation batch's, in a layout. */
export function kernelCountLine(k: StepKernelCounts & { evaluation: number }, dataFormat: DataFormat, batchSize: number): string {
  return `Kernels per training step (${dataFormat}, batch ${batchSize}): ${k.total} = forward ${k.forward} + backward ${k.backward} + optimizer ${k.optimizer}; ` +
    `per evaluation batch: ${k.evaluation}`;
}

/** A short text table of the top entries for the terminal. */
export function kernelTable(rows: KernelTotal[], top = 15): string {
  const width = Math.max(10, ...rows.slice(0, top).map((r) => r.name.length));
  const lines = [`${'kernel'.padEnd(width)}  ${'total ms'.padStart(10)}  ${'calls'.padStart(6)}  ${'% GPU'.padStart(6)}`];
  for (const r of rows.slice(0, top)) {
    lines.push(`${r.name.padEnd(width)}  ${r.totalMs.toFixed(2).padStart(10)}  ${String(r.count).padStart(6)}  ${r.percent.toFixed(1).padStart(6)}`);
  }
  return lines.join('\n');
}

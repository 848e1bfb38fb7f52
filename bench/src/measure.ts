import type { KernelSpan, Runtime } from '@squeeze/core';

/** Which clock a measurement used. */
export type Clock = 'gpu-timestamps' | 'wall-clock';

export interface Timing {
  minMs: number;
  medianMs: number;
  maxMs: number;
  /** every timed repetition, in order. */
  samplesMs: number[];
}

export function timingOf(samplesMs: number[]): Timing {
  if (samplesMs.length === 0) throw new Error('no samples to summarise');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { minMs: sorted[0]!, medianMs, maxMs: sorted[sorted.length - 1]!, samplesMs };
}

/** GPU milliseconds of the traced kernels: the sum of each kernel's own begin→end interval. */
export function gpuMsOf(spans: readonly KernelSpan[]): number {
  let ns = 0;
  for (const s of spans) {
    if (s.startNs !== undefined && s.endNs !== undefined && s.endNs >= s.startNs) ns += s.endNs - s.startNs;
  }
  return ns / 1e6;
}

/**
 * Runs `record` (which records GPU work without waiting) and waits for it. With 'timestamp-query'
 * the time is the GPU time of the kernels it dispatched (queue gaps and the CPU excluded), else the
 * wall clock from recording to completion.
 */
export async function timeGpuWork(rt: Runtime, record: () => void): Promise<{ ms: number; clock: Clock }> {
  // Start from an idle queue so earlier work is not counted.
  await rt.sync();
  if (!rt.hasTimestamps) {
    const t0 = performance.now();
    record();
    await rt.sync();
    return { ms: performance.now() - t0, clock: 'wall-clock' };
  }
  rt.beginTrace();
  let spans: KernelSpan[];
  try {
    record();
  } finally {
    spans = await rt.endTrace();
  }
  return { ms: gpuMsOf(spans), clock: 'gpu-timestamps' };
}

/** `warmups` untimed runs (pipeline compiles, pool growth), then `reps` timed ones. */
export async function measureGpuWork(rt: Runtime, record: () => void, warmups: number, reps: number): Promise<Timing & { clock: Clock }> {
  return (await measureTakingTurns(rt, [record], warmups, reps))[0]!;
}

/**
 * `warmups` untimed rounds, then `reps` timed ones, for several pieces of work at once, taking
 * turns: each round runs every `record` once, in order, so that a change in the machine's load (on
 * a software adapter, anything else on the CPU) hits them alike and their ratios stay fair.
 */
export async function measureTakingTurns(rt: Runtime, records: ReadonlyArray<() => void>, warmups: number, reps: number): Promise<Array<Timing & { clock: Clock }>> {
  for (let i = 0; i < warmups; i++) {
    for (const record of records) {
      record();
      await rt.sync();
    }
  }
  const samples: number[][] = records.map(() => []);
  const clocks: Clock[] = records.map(() => 'wall-clock');
  for (let i = 0; i < reps; i++) {
    for (const [k, record] of records.entries()) {
      const t = await timeGpuWork(rt, record);
      samples[k]!.push(t.ms);
      clocks[k] = t.clock;
    }
  }
  return samples.map((s, k) => ({ ...timingOf(s), clock: clocks[k]! }));
}

/** Floating-point operations per second, in GFLOP/s, of `flop` operations taking `ms`. */
export function gflops(flop: number, ms: number): number {
  return flop / (ms * 1e6);
}

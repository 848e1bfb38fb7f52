import { writeFileAtomicSync } from './atomic.js';

/**
 * Chrome trace-event format writer (the JSON Object Format read by
 * chrome://tracing and https://ui.perfetto.dev). Timestamps and durations are
 * in microseconds, as the format requires; displayTimeUnit only affects how
 * the viewer labels them.
 */

export interface TraceCompleteEvent {
  name: string;
  cat?: string;
  /** Start, µs. */
  ts: number;
  /** Duration, µs. */
  dur: number;
  pid: number;
  tid: number;
  args?: object;
}

/** One entry of traceEvents: a complete ("X") event or a metadata ("M") event. */
export type TraceEvent =
  | { name: string; cat?: string; ph: 'X'; ts: number; dur: number; pid: number; tid: number; args?: object }
  | { name: 'thread_name' | 'process_name'; ph: 'M'; pid: number; tid?: number; args: { name: string } };

export interface TraceJson {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
}

export class ChromeTrace {
  private readonly events: TraceEvent[] = [];

  /** Records a span ("ph": "X" = complete event: begin + duration in one entry). */
  addComplete(e: TraceCompleteEvent): void {
    if (!Number.isFinite(e.ts) || !Number.isFinite(e.dur) || e.dur < 0) {
      throw new RangeError(`trace event "${e.name}": ts and dur must be finite and dur >= 0 (got ts=${e.ts}, dur=${e.dur})`);
    }
    this.events.push({
      name: e.name,
      ...(e.cat !== undefined ? { cat: e.cat } : {}),
      ph: 'X',
      ts: e.ts,
      dur: e.dur,
      pid: e.pid,
      tid: e.tid,
      ...(e.args !== undefined ? { args: e.args } : {}),
    });
  }

  /** Labels a thread row in the viewer (metadata event "thread_name"). */
  nameThread(pid: number, tid: number, name: string): void {
    this.events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name } });
  }

  /** Labels a process group in the viewer (metadata event "process_name"). */
  nameProcess(pid: number, name: string): void {
    this.events.push({ name: 'process_name', ph: 'M', pid, args: { name } });
  }

  toJSON(): TraceJson {
    // Metadata first so viewers apply names before laying out rows.
    const meta = this.events.filter((e) => e.ph === 'M');
    const spans = this.events.filter((e) => e.ph !== 'M');
    return { traceEvents: [...meta, ...spans], displayTimeUnit: 'ms' };
  }

  /** Atomically writes the trace as JSON. */
  write(path: string): void {
    writeFileAtomicSync(path, JSON.stringify(this.toJSON()));
  }
}

export interface DurationSummary {
  min: number;
  max: number;
  /** Middle value; for an even count, the mean of the two middle values. */
  median: number;
  /** The raw measurements, in the order given. */
  measurements: number[];
}

/** Summarises repeated timing measurements (milliseconds). */
export function summariseDurations(ms: number[]): DurationSummary {
  if (ms.length === 0) throw new RangeError('summariseDurations: no measurements');
  if (!ms.every(Number.isFinite)) throw new RangeError('summariseDurations: measurements must be finite numbers');
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, max: sorted[sorted.length - 1]!, median, measurements: [...ms] };
}

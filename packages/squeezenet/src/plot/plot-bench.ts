import { readFileSync } from 'node:fs';
import type { LineSeries } from '../formats/index.js';
import { PlotError } from './errors.js';
import { writeChart } from './write-chart.js';

/**
 * The bench results file ('squeeze bench --json FILE') is expected to look like
 *
 *   { "steps": [ { "layout": "NCHW", "batchSize": 32, "medianMs": 812.5, ... }, ... ] }
 *
 * Reading is lenient so that the file may grow: other fields are ignored; a bare array of rows
 * is accepted too; `batch_size`, `median_ms`, and `dataFormat`/`data_format` for the layout are
 * read as synonyms; a row's `name`, when present, is part of its series name (so different
 * kinds of step are separate lines); rows without a numeric batch size and median are skipped.
 */

/** One measurement: `series` is the row's name (if any) and layout. */
export interface BenchStep {
  series: string;
  batchSize: number;
  medianMs: number;
}

const MS_PER_SECOND = 1000;

function pick(row: Record<string, unknown>, keys: string[]): unknown {
  for (const key of keys) if (row[key] !== undefined) return row[key];
  return undefined;
}

/** The measurements in a bench results file (see the format above); PlotError when there are none. */
export function readBenchSteps(file: string): BenchStep[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new PlotError(`${file}: no such file; write one with 'squeeze bench --json ${file}'.`);
    throw new PlotError(`${file}: not readable JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  const rows = Array.isArray(json) ? json : (json as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(rows)) throw new PlotError(`${file}: expected { "steps": [{ "layout", "batchSize", "medianMs" }, ...] }.`);
  const steps: BenchStep[] = [];
  for (const row of rows as Array<Record<string, unknown>>) {
    if (typeof row !== 'object' || row === null) continue;
    const batchSize = Number(pick(row, ['batchSize', 'batch_size']));
    const medianMs = Number(pick(row, ['medianMs', 'median_ms']));
    if (!(Number.isFinite(batchSize) && batchSize > 0 && Number.isFinite(medianMs) && medianMs > 0)) continue;
    const layout = pick(row, ['layout', 'dataFormat', 'data_format']);
    const name = row['name'];
    const series = [name, layout].filter((part) => typeof part === 'string' && part !== '').join(' ') || 'step';
    steps.push({ series, batchSize, medianMs });
  }
  if (steps.length === 0) throw new PlotError(`${file}: no steps with a numeric batchSize and medianMs to plot.`);
  return steps;
}

function seriesOf(steps: BenchStep[], y: (step: BenchStep) => number): LineSeries[] {
  const bySeries = new Map<string, Array<[number, number]>>();
  for (const step of steps) {
    let points = bySeries.get(step.series);
    if (!points) bySeries.set(step.series, (points = []));
    points.push([step.batchSize, y(step)]);
  }
  return [...bySeries].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) }));
}

/**
 * Plots bench results per layout against batch size: `bench_step_time.png/.svg` (median ms per
 * step) and `bench_throughput.png/.svg` (images per second). Returns the paths written.
 */
export function plotBench(benchJsonFile: string, outDir: string): string[] {
  const steps = readBenchSteps(benchJsonFile);
  return [
    ...writeChart(outDir, 'bench_step_time', {
      title: 'Step time',
      xLabel: 'batch size',
      yLabel: 'median ms per step',
      series: seriesOf(steps, (s) => s.medianMs),
    }),
    ...writeChart(outDir, 'bench_throughput', {
      title: 'Throughput',
      xLabel: 'batch size',
      yLabel: 'images per second',
      series: seriesOf(steps, (s) => (s.batchSize * MS_PER_SECOND) / s.medianMs),
    }),
  ];
}

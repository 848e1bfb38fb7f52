/* Axis ticks for the line charts: nice steps, tidy values and labels with just enough decimals. */

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  labels: string[];
}

/** 1, 2 or 5 times a power of ten, close to range/target. */
function niceStep(range: number, target: number): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** Digits after the point needed to show multiples of `step` exactly. */
function decimalsFor(step: number): number {
  for (let d = 0; d < 15; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 15;
}

/** Shortest labels that still read back as the tick values (so 2.5e-5 never shows as 3e-5). */
function formatTicks(ticks: number[], step: number): string[] {
  const maxAbs = Math.max(0, ...ticks.map(Math.abs));
  const useExp = maxAbs >= 1e6 || (maxAbs > 0 && maxAbs < 1e-3);
  for (let p = useExp ? 0 : decimalsFor(step); p <= 15; p++) {
    const labels = ticks.map((t) => (t === 0 ? '0' : useExp ? t.toExponential(p) : t.toFixed(p)));
    if (labels.every((l, i) => Math.abs(parseFloat(l) - ticks[i]!) <= step * 1e-6)) return labels;
  }
  return ticks.map((t) => String(t));
}

/** Removes float noise from a multiple of step (0.6000000000000001 -> 0.6) and "-0". */
function tidy(v: number, step: number): number {
  if (Math.abs(v) < step * 1e-9) return 0;
  return parseFloat(v.toPrecision(12));
}

export function makeAxis(values: number[], fixed: [number, number] | undefined, target: number): Axis {
  let lo: number;
  let hi: number;
  if (fixed) {
    [lo, hi] = fixed;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new RangeError(`plot: invalid axis range [${lo}, ${hi}]`);
  } else {
    // A loop, not Math.min(...values): long training logs would overflow the argument limit.
    lo = Infinity;
    hi = -Infinity;
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) [lo, hi] = [0, 1]; // no finite data
    if (lo === hi) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
  }
  const step = niceStep(hi - lo, target);
  if (!fixed) {
    // Widen to whole steps so the axis starts and ends on a labelled tick.
    lo = tidy(Math.floor(lo / step + 1e-9) * step, step);
    hi = tidy(Math.ceil(hi / step - 1e-9) * step, step);
  }
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let k = first; k <= last && ticks.length < 50; k++) {
    ticks.push(tidy(k * step, step));
  }
  return { lo, hi, ticks, labels: formatTicks(ticks, step) };
}

/** Small canvas charts: the live training curves and the probability bars. */

export interface Series { name: string; colour: string; points: { x: number; y: number }[] }

const FONT = '11px system-ui, sans-serif';
const AXIS = '#98a2b3';
const GRID = '#eef0f4';
const TEXT = '#475467';

function tickText(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 ? `${Math.round(v / 100) / 10}k` : a >= 10 ? String(Math.round(v)) : String(Number(v.toPrecision(2)));
}

/** Round steps for an axis from lo to hi (about `count` of them). */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

/** A line chart redrawn in full at each update; y from `yMin` (or the data's minimum) to the data's maximum. */
export class LineChart {
  private series: Series[];
  constructor(private readonly canvas: HTMLCanvasElement, series: Omit<Series, 'points'>[], private readonly yRange: { min?: number; max?: number } = {}) {
    this.series = series.map((s) => ({ ...s, points: [] }));
    this.draw();
  }

  add(name: string, x: number, y: number): void {
    this.series.find((s) => s.name === name)!.points.push({ x, y });
    this.draw();
  }

  clear(): void {
    for (const s of this.series) s.points = [];
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    const { width, height } = this.canvas;
    const pad = { left: 40, right: 10, top: 18, bottom: 22 };
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    const all = this.series.flatMap((s) => s.points);
    const xMax = Math.max(1, ...all.map((p) => p.x));
    const ys = all.map((p) => p.y).filter(Number.isFinite);
    const yMin = this.yRange.min ?? Math.min(0, ...ys);
    const yMax = this.yRange.max ?? Math.max(yMin + 1e-6, ...ys) * 1.05;
    const px = (x: number) => pad.left + (x / xMax) * (width - pad.left - pad.right);
    const py = (y: number) => height - pad.bottom - ((y - yMin) / (yMax - yMin || 1)) * (height - pad.top - pad.bottom);
    ctx.strokeStyle = GRID;
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ticks(yMin, yMax, 4)) {
      ctx.beginPath(); ctx.moveTo(pad.left, py(t)); ctx.lineTo(width - pad.right, py(t)); ctx.stroke();
      ctx.fillText(tickText(t), pad.left - 4, py(t));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of ticks(0, xMax, 5)) if (Number.isInteger(t)) ctx.fillText(tickText(t), px(t), height - pad.bottom + 4);
    ctx.strokeStyle = AXIS;
    ctx.beginPath(); ctx.moveTo(pad.left, pad.top); ctx.lineTo(pad.left, height - pad.bottom); ctx.lineTo(width - pad.right, height - pad.bottom); ctx.stroke();
    let legendX = pad.left + 4;
    ctx.textAlign = 'left';
    for (const s of this.series) {
      ctx.strokeStyle = ctx.fillStyle = s.colour;
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      s.points.forEach((p, i) => (i === 0 ? ctx.moveTo(px(p.x), py(p.y)) : ctx.lineTo(px(p.x), py(p.y))));
      ctx.stroke();
      // A lone point (one evaluation so far) would draw nothing as a line.
      for (const p of s.points.length < 30 ? s.points : []) { ctx.beginPath(); ctx.arc(px(p.x), py(p.y), 2.2, 0, 2 * Math.PI); ctx.fill(); }
      ctx.lineWidth = 1;
      ctx.fillRect(legendX, 5, 10, 3);
      ctx.fillStyle = TEXT;
      ctx.textBaseline = 'middle';
      ctx.fillText(s.name, legendX + 14, 7);
      legendX += 24 + ctx.measureText(s.name).width;
    }
  }
}

/** Horizontal bars of class probabilities, the predicted class highlighted. */
export function drawProbabilities(canvas: HTMLCanvasElement, labels: readonly string[], probabilities: readonly number[], predicted: number): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  const labelWidth = 90;
  const rowHeight = Math.min(22, height / Math.max(1, labels.length));
  labels.forEach((label, i) => {
    const y = i * rowHeight;
    const p = probabilities[i] ?? 0;
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(label, labelWidth - 6, y + rowHeight / 2);
    ctx.fillStyle = i === predicted ? '#3b6fd8' : '#c7d2e8';
    const w = Math.max(1, p * (width - labelWidth - 50));
    ctx.fillRect(labelWidth, y + 3, w, rowHeight - 6);
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'left';
    ctx.fillText(`${(p * 100).toFixed(1)}%`, labelWidth + w + 4, y + rowHeight / 2);
  });
}

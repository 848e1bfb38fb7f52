import pngjs from 'pngjs';

import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font5x7.js';
import { makeAxis, type Axis } from './plot-axis.js';

/**
 * Line charts without Python/matplotlib: the same layout rendered twice, as a
 * PNG raster (pngjs + the built-in 5x7 bitmap font) and as an SVG document.
 */

export interface LineSeries {
  name: string;
  /** [x, y] pairs, drawn in order; a non-finite coordinate breaks the line. */
  points: Array<[number, number]>;
  /** '#rrggbb' or '#rgb'; defaults to the matplotlib tab10 palette. */
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Pixels; default 800. */
  width?: number;
  /** Pixels; default 500. */
  height?: number;
  /** Fixed axis ranges; by default each is the data range widened to round tick values. */
  xRange?: [number, number];
  yRange?: [number, number];
}

/** Where things ended up, so callers (and tests) can map data to pixels. */
export interface ChartLayout {
  /** Pixel bounds of the plotting area; data x = xRange[0] maps to `left`, y = yRange[0] to `bottom`. */
  plotArea: { left: number; top: number; right: number; bottom: number };
  xRange: [number, number];
  yRange: [number, number];
  xTicks: number[];
  yTicks: number[];
}

export interface RenderedChart {
  png: Buffer;
  svg: string;
  layout: ChartLayout;
}

type RGB = [number, number, number];

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const BLACK: RGB = [0, 0, 0];
const GRID: RGB = [0xe6, 0xe6, 0xe6];
const LEGEND_BORDER: RGB = [0xa0, 0xa0, 0xa0];
const TICK_LEN = 5;
const LINE_WIDTH = 2;

function parseColor(c: string): RGB {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c.trim());
  if (!m) throw new TypeError(`plot: colour must be '#rgb' or '#rrggbb', got ${JSON.stringify(c)}`);
  const hex = m[1]!.length === 3 ? [...m[1]!].map((h) => h + h).join('') : m[1]!;
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as RGB;
}

const hexColor = (c: RGB): string => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');


// ---------------------------------------------------------------- raster

class Raster {
  readonly data: Buffer;
  constructor(readonly width: number, readonly height: number) {
    this.data = Buffer.alloc(width * height * 4, 0xff); // opaque white
  }

  set(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
    this.data[i + 3] = 0xff;
  }

  fillRect(x: number, y: number, w: number, h: number, c: RGB): void {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) this.set(xx, yy, c);
  }

  strokeRect(x: number, y: number, w: number, h: number, c: RGB): void {
    this.fillRect(x, y, w, 1, c);
    this.fillRect(x, y + h - 1, w, 1, c);
    this.fillRect(x, y, 1, h, c);
    this.fillRect(x + w - 1, y, 1, h, c);
  }

  /** Text with its top-left at (x, y); `vertical` draws it rotated 90° CCW, reading bottom-up from (x, y). */
  text(s: string, x: number, y: number, scale: number, c: RGB, vertical = false): void {
    let cursor = 0;
    for (const ch of s) {
      const rows = glyph(ch);
      for (let gy = 0; gy < rows.length; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!((rows[gy]! >> (GLYPH_WIDTH - 1 - gx)) & 1)) continue;
          const tx = (cursor + gx) * scale; // along the text
          const ty = gy * scale; // across the text
          if (vertical) this.fillRect(x + ty, y - tx - scale + 1, scale, scale, c);
          else this.fillRect(x + tx, y + ty, scale, scale, c);
        }
      }
      cursor += GLYPH_ADVANCE;
    }
  }

  /** Bresenham line, LINE_WIDTH px thick, limited to `clip`. */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, clip: Rect): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.dot(x0, y0, c, clip);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  dot(x: number, y: number, c: RGB, clip: Rect): void {
    for (let oy = 0; oy < LINE_WIDTH; oy++) {
      for (let ox = 0; ox < LINE_WIDTH; ox++) {
        const px = x + ox - (LINE_WIDTH >> 1) + 1;
        const py = y + oy - (LINE_WIDTH >> 1) + 1;
        if (px >= clip.left && px <= clip.right && py >= clip.top && py <= clip.bottom) this.set(px, py, c);
      }
    }
  }
}

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Liang–Barsky: clips a segment to `r`, or returns null if it misses it. Keeps rasterising bounded. */
function clipSegment(x0: number, y0: number, x1: number, y1: number, r: Rect): [number, number, number, number] | null {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [
    [-dx, x0 - r.left],
    [dx, r.right - x0],
    [-dy, y0 - r.top],
    [dy, r.bottom - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const t = q / p;
      if (p < 0) {
        if (t > t1) return null;
        if (t > t0) t0 = t;
      } else {
        if (t < t0) return null;
        if (t < t1) t1 = t;
      }
    }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}

// ---------------------------------------------------------------- chart

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Splits a series into runs of consecutive finite points. */
function finiteRuns(points: Array<[number, number]>): Array<Array<[number, number]>> {
  const runs: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  for (const p of points) {
    if (Number.isFinite(p[0]) && Number.isFinite(p[1])) run.push(p);
    else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

const fmt = (v: number): string => String(Math.round(v * 100) / 100);

/** Renders a line chart as PNG and SVG with identical layout. */
export function renderLineChart(opts: LineChartOptions): RenderedChart {
  const W = opts.width ?? 800;
  const H = opts.height ?? 500;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 200 || H < 150 || W > 10000 || H > 10000) {
    throw new RangeError(`plot: size ${W}x${H} must be integers between 200x150 and 10000x10000`);
  }
  const series = opts.series.map((s, i) => ({
    name: s.name,
    points: s.points,
    color: parseColor(s.color ?? PALETTE[i % PALETTE.length]!),
  }));

  // Text sizes: the 5x7 font scaled by an integer factor (2 at the default size).
  const ts = Math.min(W, H) >= 400 ? 2 : 1;
  const titleScale = ts + 1;
  const charH = GLYPH_HEIGHT * ts;

  const xAxis = makeAxis(series.flatMap((s) => s.points.map((p) => p[0])), opts.xRange, Math.max(2, Math.round(W / 120)));
  const yAxis = makeAxis(series.flatMap((s) => s.points.map((p) => p[1])), opts.yRange, Math.max(2, Math.round(H / 80)));

  const yTickW = Math.max(0, ...yAxis.labels.map((l) => textWidth(l) * ts));
  const lastXTickW = textWidth(xAxis.labels[xAxis.labels.length - 1] ?? '') * ts;
  const area: Rect = {
    left: 10 + charH + 10 + yTickW + 6 + TICK_LEN,
    top: 10 + GLYPH_HEIGHT * titleScale + 14,
    right: W - 1 - Math.max(20, Math.ceil(lastXTickW / 2) + 6),
    bottom: H - 1 - (TICK_LEN + 6 + charH + 12 + charH + 10),
  };
  if (area.right - area.left < 50 || area.bottom - area.top < 50) throw new RangeError(`plot: ${W}x${H} leaves no room for the plot area`);

  const X = (x: number): number => area.left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (area.right - area.left);
  const Y = (y: number): number => area.bottom - ((y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (area.bottom - area.top);

  const img = new Raster(W, H);
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="monospace">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<clipPath id="plot-area"><rect x="${area.left}" y="${area.top}" width="${area.right - area.left + 1}" height="${area.bottom - area.top + 1}"/></clipPath>`,
  ];
  const fontSize = (scale: number): number => 10 * scale; // em box roughly matching the 6x7-per-scale glyph cell
  const svgText = (s: string, x: number, y: number, scale: number, extra = ''): void => {
    // Raster text is positioned by its top edge; SVG by its baseline.
    svg.push(`<text x="${fmt(x)}" y="${fmt(y + GLYPH_HEIGHT * scale)}" font-size="${fontSize(scale)}"${extra}>${escapeXml(s)}</text>`);
  };

  // Grid and ticks.
  const xTickPx = xAxis.ticks.map((t) => Math.round(X(t)));
  const yTickPx = yAxis.ticks.map((t) => Math.round(Y(t)));
  for (const px of xTickPx) {
    img.fillRect(px, area.top, 1, area.bottom - area.top, GRID);
    svg.push(`<line x1="${px}" y1="${area.top}" x2="${px}" y2="${area.bottom}" stroke="${hexColor(GRID)}" stroke-width="1"/>`);
  }
  for (const py of yTickPx) {
    img.fillRect(area.left + 1, py, area.right - area.left, 1, GRID);
    svg.push(`<line x1="${area.left}" y1="${py}" x2="${area.right}" y2="${py}" stroke="${hexColor(GRID)}" stroke-width="1"/>`);
  }

  // Axes with outward ticks and labels.
  img.fillRect(area.left, area.top, 1, area.bottom - area.top + 1, BLACK);
  img.fillRect(area.left, area.bottom, area.right - area.left + 1, 1, BLACK);
  svg.push(`<polyline points="${area.left},${area.top} ${area.left},${area.bottom} ${area.right},${area.bottom}" fill="none" stroke="#000000" stroke-width="1" class="axis"/>`);
  xAxis.labels.forEach((label, i) => {
    const px = xTickPx[i]!;
    img.fillRect(px, area.bottom + 1, 1, TICK_LEN, BLACK);
    const w = textWidth(label) * ts;
    img.text(label, px - Math.floor(w / 2), area.bottom + TICK_LEN + 6, ts, BLACK);
    svg.push(`<line x1="${px}" y1="${area.bottom}" x2="${px}" y2="${area.bottom + TICK_LEN}" stroke="#000000" stroke-width="1"/>`);
    svgText(label, px, area.bottom + TICK_LEN + 6, ts, ' text-anchor="middle"');
  });
  yAxis.labels.forEach((label, i) => {
    const py = yTickPx[i]!;
    img.fillRect(area.left - TICK_LEN, py, TICK_LEN, 1, BLACK);
    const w = textWidth(label) * ts;
    img.text(label, area.left - TICK_LEN - 6 - w, py - Math.floor(charH / 2), ts, BLACK);
    svg.push(`<line x1="${area.left - TICK_LEN}" y1="${py}" x2="${area.left}" y2="${py}" stroke="#000000" stroke-width="1"/>`);
    svgText(label, area.left - TICK_LEN - 6, py - Math.floor(charH / 2), ts, ' text-anchor="end"');
  });

  // Title, axis labels.
  const titleW = textWidth(opts.title) * titleScale;
  img.text(opts.title, Math.round(W / 2 - titleW / 2), 10, titleScale, BLACK);
  svgText(opts.title, W / 2, 10, titleScale, ' text-anchor="middle" font-weight="bold"');
  const xLabelW = textWidth(opts.xLabel) * ts;
  const xLabelTop = area.bottom + TICK_LEN + 6 + charH + 12;
  const plotMidX = (area.left + area.right) / 2;
  img.text(opts.xLabel, Math.round(plotMidX - xLabelW / 2), xLabelTop, ts, BLACK);
  svgText(opts.xLabel, plotMidX, xLabelTop, ts, ' text-anchor="middle"');
  const yLabelW = textWidth(opts.yLabel) * ts;
  const plotMidY = (area.top + area.bottom) / 2;
  img.text(opts.yLabel, 10, Math.round(plotMidY + yLabelW / 2), ts, BLACK, true);
  // Rotated -90° about (10, midY): the glyph tops face left, as in the raster.
  svg.push(
    `<text x="${fmt(10)}" y="${fmt(plotMidY + GLYPH_HEIGHT * ts)}" font-size="${fontSize(ts)}" text-anchor="middle" ` +
      `transform="rotate(-90 ${fmt(10)} ${fmt(plotMidY)})">${escapeXml(opts.yLabel)}</text>`,
  );

  // Series, clipped to the plot area.
  svg.push('<g clip-path="url(#plot-area)">');
  for (const s of series) {
    const color = hexColor(s.color);
    for (const run of finiteRuns(s.points)) {
      const px = run.map(([x, y]) => [X(x), Y(y)] as [number, number]);
      if (px.length === 1) {
        const [x, y] = px[0]!;
        if (x >= area.left && x <= area.right && y >= area.top && y <= area.bottom) {
          img.fillRect(Math.round(x) - 2, Math.round(y) - 2, 5, 5, s.color);
        }
        svg.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="2.5" fill="${color}"/>`);
        continue;
      }
      for (let i = 1; i < px.length; i++) {
        const seg = clipSegment(px[i - 1]![0], px[i - 1]![1], px[i]![0], px[i]![1], area);
        if (seg) img.line(Math.round(seg[0]), Math.round(seg[1]), Math.round(seg[2]), Math.round(seg[3]), s.color, area);
      }
      svg.push(
        `<polyline points="${px.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(' ')}" fill="none" stroke="${color}" ` +
          `stroke-width="${LINE_WIDTH}" stroke-linejoin="round" data-series="${escapeXml(s.name)}"/>`,
      );
    }
  }
  svg.push('</g>');

  // Legend, top-right inside the plot area.
  if (series.length > 0) {
    const rowH = charH + 6;
    const sample = 20;
    const boxW = 8 + sample + 6 + Math.max(...series.map((s) => textWidth(s.name) * ts)) + 8;
    const boxH = series.length * rowH + 6;
    const bx = area.right - 8 - boxW;
    const by = area.top + 8;
    img.fillRect(bx, by, boxW, boxH, [0xff, 0xff, 0xff]);
    img.strokeRect(bx, by, boxW, boxH, LEGEND_BORDER);
    svg.push(`<rect x="${bx}" y="${by}" width="${boxW}" height="${boxH}" fill="#ffffff" stroke="${hexColor(LEGEND_BORDER)}" stroke-width="1"/>`);
    series.forEach((s, i) => {
      const rowTop = by + 6 + i * rowH;
      const midY = rowTop + Math.floor(charH / 2);
      img.fillRect(bx + 8, midY - 1, sample, LINE_WIDTH, s.color);
      img.text(s.name, bx + 8 + sample + 6, rowTop, ts, BLACK);
      svg.push(`<line x1="${bx + 8}" y1="${midY}" x2="${bx + 8 + sample}" y2="${midY}" stroke="${hexColor(s.color)}" stroke-width="${LINE_WIDTH}"/>`);
      svgText(s.name, bx + 8 + sample + 6, rowTop, ts);
    });
  }
  svg.push('</svg>');

  const png = new pngjs.PNG({ width: W, height: H });
  img.data.copy(png.data);
  return {
    png: pngjs.PNG.sync.write(png),
    svg: svg.join('\n') + '\n',
    layout: {
      plotArea: { ...area },
      xRange: [xAxis.lo, xAxis.hi],
      yRange: [yAxis.lo, yAxis.hi],
      xTicks: xAxis.ticks,
      yTicks: yAxis.ticks,
    },
  };
}

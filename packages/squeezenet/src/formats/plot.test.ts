import assert from 'node:assert/strict';

import pngjs from 'pngjs';

import { glyph, hasGlyph } from './font5x7.js';
import { renderLineChart, type LineChartOptions } from './plot.js';

function pixel(png: pngjs.PNG, x: number, y: number): [number, number, number] {
  const i = (y * png.width + x) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

const RED: [number, number, number] = [0xd6, 0x27, 0x28];
const BLUE: [number, number, number] = [0x1f, 0x77, 0xb4];

describe('formats/plot', () => {
  const opts: LineChartOptions = {
    title: 'Training loss (CIFAR-10)',
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      { name: 'flat', points: [[0, 5], [10, 5]], color: '#d62728' },
      { name: 'rise', points: [[0, 0], [5, 4], [10, 10]], color: '#1f77b4' },
    ],
  };

  it('has a glyph for every character the brief asks for', () => {
    for (const ch of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_/:%() ') {
      assert.ok(hasGlyph(ch), `missing glyph ${JSON.stringify(ch)}`);
    }
    assert.deepEqual(glyph('\u2603'), glyph('?'));
    assert.deepEqual(glyph('1'), [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0, 0]);
  });

  it('renders a PNG of the requested size with each series in its colour where expected', () => {
    const { png, layout } = renderLineChart({ ...opts, width: 640, height: 420 });
    const img = pngjs.PNG.sync.read(png);
    assert.equal(img.width, 640);
    assert.equal(img.height, 420);
    assert.deepEqual(layout.yRange, [0, 10]);
    assert.deepEqual(layout.xRange, [0, 10]);
    const { left, right, top, bottom } = layout.plotArea;
    // The horizontal red line at y = 5 sits half-way up the plot area, across its whole width
    // (except where the legend box covers it, top-right, which is far above y = 5).
    const yRow = Math.round(bottom - (bottom - top) / 2);
    let redColumns = 0;
    for (let x = left + 1; x < right; x++) {
      if ([yRow - 1, yRow, yRow + 1].some((y) => pixel(img, x, y).join() === RED.join())) redColumns++;
    }
    assert.ok(redColumns >= right - left - 6, `red line covers ${redColumns} of ${right - left - 1} columns`);
    // No red pixels anywhere else in the column at the plot's quarter width.
    const xq = Math.round(left + (right - left) / 4);
    for (let y = 0; y < img.height; y++) {
      if (Math.abs(y - yRow) > 1) assert.notDeepEqual(pixel(img, xq, y), RED, `stray red at (${xq}, ${y})`);
    }
    // The blue series passes through (5, 4): 40% up, half-way across.
    const bx = Math.round(left + (right - left) / 2);
    const by = Math.round(bottom - 0.4 * (bottom - top));
    const near = [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => pixel(img, bx + dx, by + dy).join() === BLUE.join()));
    assert.ok(near, `no blue pixel near (${bx}, ${by})`);
    // Background is white, axes are black.
    assert.deepEqual(pixel(img, 2, img.height - 2), [255, 255, 255]);
    assert.deepEqual(pixel(img, left, Math.round((top + bottom) / 3)), [0, 0, 0]);
    assert.deepEqual(pixel(img, Math.round((left + right) / 3), bottom), [0, 0, 0]);
  });

  it('draws text: the title row and tick labels contain ink', () => {
    const { png, layout } = renderLineChart(opts);
    const img = pngjs.PNG.sync.read(png);
    assert.equal(img.width, 800);
    assert.equal(img.height, 500);
    const inkIn = (x0: number, y0: number, x1: number, y1: number): number => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixel(img, x, y).join() === '0,0,0') n++;
      return n;
    };
    assert.ok(inkIn(0, 0, img.width, layout.plotArea.top - 4) > 100, 'title missing');
    assert.ok(inkIn(0, layout.plotArea.bottom + 6, img.width, img.height) > 100, 'x tick labels / label missing');
    assert.ok(inkIn(0, layout.plotArea.top, layout.plotArea.left - 6, layout.plotArea.bottom) > 100, 'y tick labels / label missing');
  });

  it('renders the same chart as SVG with one polyline per series and the right point counts', () => {
    const { svg, layout } = renderLineChart(opts);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="800" height="500" /);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    const polylines = [...svg.matchAll(/<polyline points="([^"]*)"[^>]*data-series="([^"]*)"/g)];
    assert.deepEqual(polylines.map((m) => [m[2], m[1]!.split(' ').length]), [['flat', 2], ['rise', 3]]);
    // Same geometry as the PNG: the flat series sits half-way up the plot area.
    const ys = polylines[0]![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    const mid = (layout.plotArea.top + layout.plotArea.bottom) / 2;
    assert.ok(ys.every((y) => Math.abs(y - mid) < 0.01));
    assert.ok(svg.includes('>Training loss (CIFAR-10)</text>'));
    assert.ok(svg.includes('>epoch</text>') && svg.includes('>loss</text>'));
    // XML-ish: tags balance.
    const opened = (svg.match(/<(svg|g|text|clipPath)\b/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|g|text|clipPath)>/g) ?? []).length;
    assert.equal(opened, closed);
  });

  it('escapes markup in labels and breaks lines at non-finite points', () => {
    const { svg, png } = renderLineChart({
      title: 'a < b & "c"',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: '<s>', points: [[0, 1], [1, 2], [2, NaN], [3, 1], [4, 0]] }],
    });
    assert.ok(svg.includes('a &lt; b &amp; &quot;c&quot;'));
    assert.ok(!svg.includes('<s>'));
    assert.equal((svg.match(/<polyline points=/g) ?? []).length - 1 /* axes */, 2);
    assert.ok(pngjs.PNG.sync.read(png).width === 800);
  });

  it('picks round ticks and respects fixed ranges, clipping what falls outside', () => {
    const { layout, png } = renderLineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      yRange: [0, 1],
      series: [{ name: 'acc', points: [[0, 0.31], [50, 0.72], [100, 1e9]], color: '#2ca02c' }],
    });
    assert.deepEqual(layout.yRange, [0, 1]);
    assert.deepEqual(layout.yTicks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(layout.xTicks.slice(0, 3), [0, 10, 20]);
    const img = pngjs.PNG.sync.read(png);
    // Nothing green above the plot area even though the last point is far off-scale.
    for (let y = 0; y < layout.plotArea.top; y++) {
      for (let x = 0; x < img.width; x++) assert.notDeepEqual(pixel(img, x, y), [0x2c, 0xa0, 0x2c]);
    }
  });

  it('rejects bad colours and sizes', () => {
    assert.throws(() => renderLineChart({ ...opts, series: [{ name: 'a', points: [], color: 'red' }] }), TypeError);
    assert.throws(() => renderLineChart({ ...opts, width: 10 }), RangeError);
  });
});

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderLineChart, writeFileAtomicSync, type LineChartOptions } from '../formats/index.js';

/** Renders one chart as `<outDir>/<baseName>.png` and `.svg`; returns both paths. */
export function writeChart(outDir: string, baseName: string, chart: LineChartOptions): string[] {
  mkdirSync(outDir, { recursive: true });
  const { png, svg } = renderLineChart(chart);
  const pngPath = join(outDir, `${baseName}.png`);
  const svgPath = join(outDir, `${baseName}.svg`);
  writeFileAtomicSync(pngPath, png);
  writeFileAtomicSync(svgPath, svg);
  return [pngPath, svgPath];
}

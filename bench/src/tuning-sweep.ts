/**
 * Conv tuning sweep: times candidate ConvTunings against each other on every distinct SqueezeNet
 * convolution at batch 32, both layouts, and sums each candidate over the 26 convolutions of a
 * training step. Candidates take turns within each repetition and are timed by GPU timestamps
 * (wall-clock A/B runs misled on lavapipe), so slow drift hits them all alike. This is how the
 * tuning figures in bench/README.md were taken.
 *
 *   node bench/dist/tuning-sweep.js [--reps 9] [--json FILE] [--shapes fire4/expand3x3,…] [--base software|hardware]
 *
 * On lavapipe the full candidate list takes hours of shader compiles; pass --shapes there.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  conv2dBackwardData, conv2dBackwardFilter, conv2dForward, conv2dGeometry, conv2dOutputShape, convTuningFor, init, rand, tidy,
  type Conv2dGeometry, type ConvAlgorithms, type ConvTuning, type Runtime, type Tensor,
} from '@squeeze/core';
import type { ConvTiles } from '@squeeze/kernels-wgsl';
import { timeGpuWork, timingOf } from './measure.js';
import { distinctConvShapes, type ConvShape } from './shapes.js';
import type { DataFormat } from '@squeeze/core';

type Pass = 'forward' | 'backwardData' | 'backwardFilter';
const PASSES: readonly Pass[] = ['forward', 'backwardData', 'backwardFilter'];
type Operands = { x: Tensor; w: Tensor; dy: Tensor };
const RECORD: Record<Pass, (t: Operands, g: Conv2dGeometry, tu: ConvTuning) => Tensor> = {
  forward: (t, g, tu) => conv2dForward(t.x, t.w, null, g, tu),
  backwardData: (t, g, tu) => conv2dBackwardData(t.dy, t.w, g, tu),
  backwardFilter: (t, g, tu) => conv2dBackwardFilter(t.x, t.dy, g, tu),
};

/** `base` with some algorithms switched and some tiles replaced. */
export function tunedFrom(base: ConvTuning, algorithms: Partial<ConvAlgorithms>, tiles: Partial<ConvTiles> = {}): ConvTuning {
  return { algorithms: { ...base.algorithms, ...algorithms }, tiles: { ...base.tiles, ...tiles } };
}

/**
 * The adapter's tuning with the GEMM tile changed (pixels × channels, workgroup, channels per step;
 * other GEMM options kept) — for every convolution: the base's `wide` tiles are dropped, or they
 * would replace the candidate's tile wherever a layer has enough channels.
 */
export function withGemm(base: ConvTuning, pixels: number, channels: number, workgroup: number, unroll: number): ConvTuning {
  const { wide: _wide, ...options } = base.tiles.gemm;
  return tunedFrom(base, {}, { gemm: { ...options, pixels, channels, workgroup, unroll: { NCHW: unroll, NHWC: unroll } } });
}

/** The adapter's tuning with the filter-gradient tile changed, the same for both layouts (other filter options kept). */
export function withFilter(base: ConvTuning, inChannels: number, outChannels: number, workgroup: number, chunkPixels: number): ConvTuning {
  const tile = { inChannels, outChannels, workgroup, chunkPixels };
  const bf = base.tiles.backwardFilter;
  return tunedFrom(base, {}, { backwardFilter: { NCHW: { ...bf.NCHW, ...tile }, NHWC: { ...bf.NHWC, ...tile } } });
}

/** Candidates around a tuning: GEMM tiles for forward/backward-data, filter tiles for backward-filter. */
export function defaultCandidates(adapterTuning: ConvTuning): { gemm: Record<string, ConvTuning>; filter: Record<string, ConvTuning> } {
  // Winograd around the GEMM takes over every pass of the 3×3 stride-1 layers, so the candidates that
  // vary the direct kernels (and the fused Winograd) run without it, else on those layers they would
  // all time the same Winograd-GEMM; it has candidates of its own below.
  const base = tunedFrom(adapterTuning, { winogradGemm: false });
  const g = base.tiles.gemm;
  const f = base.tiles.backwardFilter.NHWC;
  const gemm: Record<string, ConvTuning> = { current: adapterTuning };
  const winogradGemm: Record<string, ConvTuning> = {
    'winograd-gemm F(4×4)': tunedFrom(base, { winogradGemm: true }, { winogradGemm: { m: 4, m2Below: 8 } }),
    'winograd-gemm F(2×2)': tunedFrom(base, { winogradGemm: true }, { winogradGemm: { m: 2, m2Below: 0 } }),
    ...(adapterTuning.algorithms.winogradGemm ? { 'no winograd-gemm': base } : {}),
  };
  Object.assign(gemm, winogradGemm);
  for (const [p, c, wg] of [[4, 4, 64], [4, 8, 32], [4, 8, 64], [8, 8, 64], [8, 4, 64], [4, 16, 64], [16, 16, 16]] as const) {
    for (const u of [1, 2, 4]) {
      if (p === g.pixels && c === g.channels && wg === g.workgroup && u === g.unroll.NCHW && u === g.unroll.NHWC) continue;
      gemm[`${p}x${c} wg${wg} unroll${u}`] = withGemm(base, p, c, wg, u);
    }
  }
  // Winograd replaces forward and backward-data of the 3×3 stride-1 convolutions (others: as current).
  for (const [c, wg, u] of [[4, 64, 1], [8, 64, 1], [16, 64, 1], [4, 32, 2], [8, 32, 2], [16, 16, 1]] as const) {
    gemm[`winograd ${c} wg${wg} unroll${u}`] = tunedFrom(base, { winograd: true }, { winograd: { channels: c, workgroup: wg, unroll: u } });
  }
  if (base.algorithms.winograd) gemm['no winograd'] = tunedFrom(base, { winograd: false });
  // The load-sharing options on, as the adapter's tuning has them, against off.
  if (g.subgroupWeights) gemm['no subgroup weights'] = tunedFrom(base, {}, { gemm: { ...g, subgroupWeights: false } });
  if (g.pairLoads) gemm['no wider loads'] = tunedFrom(base, {}, { gemm: { ...g, pairLoads: false } });
  if (g.wide) {
    const { wide: _wide, ...baseTile } = g;
    gemm['no wide tiles'] = tunedFrom(base, {}, { gemm: baseTile });
  }
  const filter: Record<string, ConvTuning> = {
    current: adapterTuning, ...winogradGemm, 'NCHW via NHWC': tunedFrom(base, { nchwFilterViaNhwc: !base.algorithms.nchwFilterViaNhwc }),
  };
  for (const [i, o, wg, chunk] of [[4, 8, 64, 64], [4, 8, 64, 128], [4, 8, 64, 512], [4, 4, 64, 128], [8, 8, 64, 128], [8, 8, 16, 512], [16, 16, 16, 512]] as const) {
    if (i === f.inChannels && o === f.outChannels && wg === f.workgroup && chunk === f.chunkPixels) continue;
    filter[`${i}x${o} wg${wg} chunk${chunk}`] = withFilter(base, i, o, wg, chunk);
  }
  if (f.subgroupX) {
    filter['no shared x rows'] = tunedFrom(base, {}, { backwardFilter: { ...base.tiles.backwardFilter, NHWC: { ...f, subgroupX: false } } });
  }
  return { gemm, filter };
}

export interface SweepRow { layout: DataFormat; shape: string; pass: Pass; layers: number; medianMs: Record<string, number> }


/** Medians per candidate for every distinct shape, pass and layout; `totals` weights them by layers. */
export async function sweepConvTunings(
  rt: Runtime, candidates: { gemm: Record<string, ConvTuning>; filter: Record<string, ConvTuning> }, opts: { reps: number; batchSize: number; shapes?: readonly ConvShape[] },
  onRow: (row: SweepRow) => void = () => {},
): Promise<{ rows: SweepRow[]; totals: Record<string, number> }> {
  const rows: SweepRow[] = [];
  const totals: Record<string, number> = {};
  for (const layout of ['NCHW', 'NHWC'] as const) {
    for (const shape of opts.shapes ?? distinctConvShapes()) {
      const B = opts.batchSize;
      const xShape = layout === 'NCHW' ? [B, shape.cin, shape.size, shape.size] : [B, shape.size, shape.size, shape.cin];
      const wShape = [shape.cout, shape.cin, shape.k, shape.k];
      const g = conv2dGeometry(xShape, wShape, { padding: 'SAME', dataFormat: layout });
      const t: Operands = { x: rand(xShape, { seed: 1, low: -1 }), w: rand(wShape, { seed: 2, low: -1 }), dy: rand(conv2dOutputShape(g), { seed: 3, low: -1 }) };
      try {
        for (const pass of PASSES) {
          const cands = pass === 'backwardFilter' ? candidates.filter : candidates.gemm;
          const names = Object.keys(cands);
          const time = async (name: string) => (await timeGpuWork(rt, () => tidy(() => { RECORD[pass](t, g, cands[name]!); }))).ms;
          for (const name of names) { await time(name); await time(name); }
          const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
          for (let r = 0; r < opts.reps; r++) for (const name of names) samples[name]!.push(await time(name));
          const layers = pass === 'backwardData' ? shape.layers.filter((l) => l !== 'conv1').length : shape.layers.length;
          const row: SweepRow = { layout, shape: shape.name, pass, layers, medianMs: Object.fromEntries(names.map((n) => [n, timingOf(samples[n]!).medianMs])) };
          for (const name of names) totals[`${layout} ${pass} ${name}`] = (totals[`${layout} ${pass} ${name}`] ?? 0) + layers * row.medianMs[name]!;
          rows.push(row);
          onRow(row);
        }
      } finally {
        t.x.dispose(); t.w.dispose(); t.dy.dispose();
      }
    }
  }
  return { rows, totals };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    reps: { type: 'string', default: '9' }, json: { type: 'string' }, base: { type: 'string', default: 'adapter' },
    shapes: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } });
  if (values.help) {
    console.log('Usage: node bench/dist/tuning-sweep.js [--reps 9] [--json FILE] [--shapes NAME,NAME…] [--base adapter|software|hardware]\n' +
      'Times candidate conv tunings (GEMM, Winograd and filter-gradient tiles) around the adapter\'s own on every distinct\n' +
      'SqueezeNet convolution at batch 32, both layouts, by GPU timestamps with the candidates taking turns.');
    return;
  }
  const shapes = values.shapes ? distinctConvShapes().filter((s) => values.shapes!.split(',').includes(s.name)) : undefined;
  const rt = await init();
  const base = values.base === 'software' || values.base === 'hardware' ? convTuningFor({ software: values.base === 'software' }) : convTuningFor(rt.description);
  console.log(`tuning sweep on ${rt.description.description || rt.description.device}, ${new Date().toISOString()}`);
  const result = await sweepConvTunings(rt, defaultCandidates(base), { reps: Number(values.reps), batchSize: 32, ...(shapes ? { shapes } : {}) }, (row) => {
    const best = Object.entries(row.medianMs).reduce((a, b) => (a[1] <= b[1] ? a : b));
    console.log(`${row.layout} ${row.shape.padEnd(18)} ${row.pass.padEnd(14)} current ${row.medianMs['current']!.toFixed(3)} ms, best ${best[0]} ${best[1].toFixed(3)} ms`);
  });
  console.log('\nPer training step (ms, each shape times its layers):');
  for (const [k, v] of Object.entries(result.totals)) console.log(`${k.padEnd(44)} ${v.toFixed(3)}`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), adapter: rt.description, reps: Number(values.reps), ...result }, null, 1));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
  process.exit(0);
}

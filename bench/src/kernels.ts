import {
  convTuningFor, describeConvPath, planConv, conv2dBackwardData, conv2dBackwardFilter, conv2dForward, conv2dGeometry, conv2dOutputShape, gemm, rand, tidy,
  type Conv2dGeometry, type Runtime, type Tensor,
} from '@squeeze/core';
import { gflops, measureTakingTurns, type Clock, type Timing } from './measure.js';
import { gemmSizes, type ConvPass, type ConvShape } from './shapes.js';
import type { DataFormat } from '@squeeze/core';

export type { ConvPass };

export const CONV_PASSES: readonly ConvPass[] = ['forward', 'backward-data', 'backward-filter'];

/** The fast GEMM kernel at the M, N, K of one convolution pass: what that pass could reach. */
export interface GemmRow extends Timing {
  /** `gemm <shape> <pass>`; --filter matches it. */
  name: string;
  shape: string;
  pass: ConvPass;
  M: number; N: number; K: number;
  flop: number;
  gflops: number;
  clock: Clock;
}

export interface ConvRow extends Timing {
  /** `conv <shape> <pass> <layout>`; --filter matches it. */
  name: string;
  shape: string;
  /** every layer of this shape (fire2/expand1x1 is also fire3/expand1x1). */
  layers: string[];
  pass: ConvPass;
  layout: DataFormat;
  batchSize: number;
  cin: number; cout: number; kernel: number; size: number;
  /** the pass's GEMM (shapes.ts gemmSizes), the same 2·M·N·K for every pass. */
  M: number; N: number; K: number;
  /** what the pass runs (core's planConv, named by describeConvPath), e.g. 'implicit GEMM' or 'winograd-gemm F(4×4,3×3)'. */
  algorithm: string;
  /** 2·M·N·K, the direct convolution's count, also for Winograd (whose GFLOP/s are thus effective). */
  flop: number;
  gflops: number;
  /** GFLOP/s of the fast GEMM at this pass's M, N, K, measured in the same run. */
  ceilingGflops: number;
  /** gflops / ceilingGflops. */
  ratioToCeiling: number;
  /** NHWC median ÷ NCHW median of this shape and pass (< 1: NHWC faster); null unless both layouts ran. */
  nhwcOverNchw: number | null;
  clock: Clock;
}

export const gemmRowName = (shape: ConvShape, pass: ConvPass): string => `gemm ${shape.name} ${pass}`;
export const convRowName = (shape: ConvShape, pass: ConvPass, layout: DataFormat): string => `conv ${shape.name} ${pass} ${layout}`;

interface Measure { warmups: number; reps: number }

/**
 * One row to time: `record` records its GPU work, `row` makes the row from the timing. A shape's
 * rows (its ceilings and its convolutions in every layout) are timed taking turns (`measureShape`),
 * so that a change in the machine's load hits a convolution and the ceiling it is compared with alike.
 */
interface BenchCase<Row> {
  record: () => void;
  row: (timing: Timing & { clock: Clock }) => Row;
}

/** Cases and what frees the operands they share. */
interface BenchCases<Row> { cases: Array<BenchCase<Row>>; dispose: () => void }

/** The fast GEMM kernel, C [M,N] = A [M,K] · B [K,N], at the sizes of one pass of this shape. */
function gemmCeilingCase(rt: Runtime, shape: ConvShape, pass: ConvPass, batchSize: number): BenchCases<GemmRow> {
  const { M, N, K } = gemmSizes(shape, batchSize, pass);
  const a = rand([M, K], { seed: 1, low: -1 });
  const b = rand([K, N], { seed: 2, low: -1 });
  const c = rand([M, N], { seed: 3, low: -1 });
  const flop = 2 * M * N * K;
  return {
    cases: [{
      record: () => gemm(rt, { a, b, c, M, N, K }),
      row: (t) => ({ name: gemmRowName(shape, pass), shape: shape.name, pass, M, N, K, flop, ...t, gflops: gflops(flop, t.medianMs) }),
    }],
    dispose: () => { a.dispose(); b.dispose(); c.dispose(); },
  };
}

type Operands = { x: Tensor; w: Tensor; dy: Tensor };

const PASS_NAME = { 'forward': 'forward', 'backward-data': 'backwardData', 'backward-filter': 'backwardFilter' } as const;

const RECORD_PASS: Record<ConvPass, (t: Operands, g: Conv2dGeometry) => Tensor> = {
  'forward': (t, g) => conv2dForward(t.x, t.w, null, g),
  'backward-data': (t, g) => conv2dBackwardData(t.dy, t.w, g),
  'backward-filter': (t, g) => conv2dBackwardFilter(t.x, t.dy, g),
};

/**
 * The fast convolution kernels (through conv2d's public pass functions, every kernel of a pass
 * counted: the weight reorder with the implicit GEMM, the partial sums with the filter gradient)
 * of the selected passes of one shape and layout. Ratios are filled in later, once ceilings are known.
 */
function convCases(rt: Runtime, shape: ConvShape, layout: DataFormat, passes: readonly ConvPass[], batchSize: number): BenchCases<ConvRow> {
  const xShape = layout === 'NCHW' ? [batchSize, shape.cin, shape.size, shape.size] : [batchSize, shape.size, shape.size, shape.cin];
  const wShape = [shape.cout, shape.cin, shape.k, shape.k];
  const g = conv2dGeometry(xShape, wShape, { padding: 'SAME', dataFormat: layout });
  const t: Operands = {
    x: rand(xShape, { seed: 1, low: -1 }), w: rand(wShape, { seed: 2, low: -1 }), dy: rand(conv2dOutputShape(g), { seed: 3, low: -1 }),
  };
  const cases = passes.map((pass): BenchCase<ConvRow> => {
    const { M, N, K } = gemmSizes(shape, batchSize, pass);
    const flop = 2 * M * N * K;
    return {
      record: () => tidy(() => { RECORD_PASS[pass](t, g); }),
      row: (timing) => ({
        name: convRowName(shape, pass, layout), shape: shape.name, layers: shape.layers, pass, layout, batchSize,
        cin: shape.cin, cout: shape.cout, kernel: shape.k, size: shape.size, M, N, K,
        algorithm: describeConvPath(planConv(g, PASS_NAME[pass], convTuningFor(rt.description))), flop, ...timing,
        gflops: gflops(flop, timing.medianMs), ceilingGflops: NaN, ratioToCeiling: NaN, nhwcOverNchw: null,
      }),
    };
  });
  return { cases, dispose: () => { t.x.dispose(); t.w.dispose(); t.dy.dispose(); } };
}

/**
 * Times one shape's selected GEMM ceilings (`ceilings`, by pass) and convolution rows (per layout),
 * all taking turns: `warmups` untimed rounds, then `reps` timed ones, each running every case once.
 */
export async function measureShape(
  rt: Runtime, shape: ConvShape, ceilings: readonly ConvPass[], convs: ReadonlyArray<{ layout: DataFormat; passes: readonly ConvPass[] }>,
  batchSize: number, m: Measure, onRow: (name: string, medianMs: number, gflops: number) => void = () => {},
): Promise<{ gemm: GemmRow[]; convs: ConvRow[] }> {
  const gemmSets = ceilings.map((pass) => gemmCeilingCase(rt, shape, pass, batchSize));
  const convSets = convs.map((c) => convCases(rt, shape, c.layout, c.passes, batchSize));
  try {
    const gemmCases = gemmSets.flatMap((set) => set.cases);
    const convCaseList = convSets.flatMap((set) => set.cases);
    const timings = await measureTakingTurns(rt, [...gemmCases, ...convCaseList].map((c) => c.record), m.warmups, m.reps);
    const gemmRows = gemmCases.map((c, i) => c.row(timings[i]!));
    const convRows = convCaseList.map((c, i) => c.row(timings[gemmCases.length + i]!));
    for (const r of [...gemmRows, ...convRows]) onRow(r.name, r.medianMs, r.gflops);
    return { gemm: gemmRows, convs: convRows };
  } finally {
    for (const set of [...gemmSets, ...convSets]) set.dispose();
  }
}

/** Fills each row's ceiling ratio (from the GEMM of its shape and pass) and its NHWC/NCHW ratio (when both ran). */
export function relateConvRows(rows: ConvRow[], ceilings: readonly GemmRow[]): void {
  for (const row of rows) {
    const ceiling = ceilings.find((c) => c.shape === row.shape && c.pass === row.pass);
    if (!ceiling) throw new Error(`no GEMM ceiling measured for ${row.shape} ${row.pass}`);
    row.ceilingGflops = ceiling.gflops;
    row.ratioToCeiling = row.gflops / ceiling.gflops;
    const nchw = rows.find((r) => r.shape === row.shape && r.pass === row.pass && r.layout === 'NCHW');
    const nhwc = rows.find((r) => r.shape === row.shape && r.pass === row.pass && r.layout === 'NHWC');
    row.nhwcOverNchw = nchw && nhwc ? nhwc.medianMs / nchw.medianMs : null;
  }
}

export interface ConvStepTotal {
  layout: DataFormat;
  /** sum over every conv layer of a training step of its shape's median, per pass (conv1 has no backward-data). */
  forwardMs: number;
  backwardDataMs: number;
  backwardFilterMs: number;
  totalMs: number;
}

/**
 * What the convolutions of one training step cost at the measured medians: each layer counted once
 * (shared shapes counted per layer), conv1's backward-data left out as training skips it (its
 * input needs no gradient). Only for layouts where every shape and pass was measured.
 */
export function convStepTotals(rows: readonly ConvRow[], shapes: readonly ConvShape[], layouts: readonly DataFormat[]): ConvStepTotal[] {
  const totals: ConvStepTotal[] = [];
  for (const layout of layouts) {
    const perPass: Record<ConvPass, number> = { 'forward': 0, 'backward-data': 0, 'backward-filter': 0 };
    let complete = true;
    for (const shape of shapes) {
      for (const pass of CONV_PASSES) {
        const row = rows.find((r) => r.shape === shape.name && r.pass === pass && r.layout === layout);
        if (!row) { complete = false; continue; }
        const layers = pass === 'backward-data' ? shape.layers.filter((l) => l !== 'conv1').length : shape.layers.length;
        perPass[pass] += layers * row.medianMs;
      }
    }
    if (!complete) continue;
    const total = perPass['forward'] + perPass['backward-data'] + perPass['backward-filter'];
    totals.push({ layout, forwardMs: perPass['forward'], backwardDataMs: perPass['backward-data'], backwardFilterMs: perPass['backward-filter'], totalMs: total });
  }
  return totals;
}

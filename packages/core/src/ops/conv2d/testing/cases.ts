import assert from 'node:assert/strict';
import type { ConvTiles } from '@squeeze/kernels-wgsl';
import { tensor } from '../../creation/creation.js';
import { expectClose, gpuValues, randomValues } from '../../../testing/check.js';
import type { Tensor } from '../../../tensor.js';
import { conv2dGeometry, conv2dOutputShape, type Conv2dGeometry, type Conv2dShapeOptions } from '../geometry.js';
import { describeConvPath, planConv, type ConvAlgorithms, type ConvPass, type ConvTuning } from '../plan.js';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dBiasGrad, conv2dForward } from '../passes.js';
import { conv2dBackwardDataSimple, conv2dBackwardFilterSimple, conv2dBiasGradSimple, conv2dForwardSimple } from './simple.js';
import { conv2dBackwardDataRef, conv2dBackwardFilterRef, conv2dBiasGradRef, conv2dForwardRef } from '../reference.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

// What the conv2d tests share: small tunings, shapes in both layouts, and a check of one pass along
// the path the planner gives it against the simple kernels and the float64 reference.

export const TOL = { atol: 2e-4, rtol: 2e-4 };

/** Every algorithm off: the implicit GEMM and the per-tap filter gradient. */
export const NO_ALGORITHMS: ConvAlgorithms = {
  winogradGemm: false, winogradAdjointData: false, winograd: false, colsDataBelowChannels: 0,
  filterPatch: false, pointwiseFilterGemm: false, nchwFilterViaNhwc: false, epilogueStatistics: false,
};

/**
 * Small tiles: the WGSL comes from the same generators (tile sizes are parameters), but an 8×8 GEMM
 * tile compiles in a fraction of the tuned 16×16's time on lavapipe. Tiny filter-gradient chunks
 * make most cases split their reduction over several chunks.
 */
export const TEST_TILES: ConvTiles = {
  gemm: { pixels: 8, channels: 8, workgroup: 16, unroll: { NCHW: 1, NHWC: 1 } },
  backwardFilter: {
    NCHW: { inChannels: 4, outChannels: 8, workgroup: 16, chunkPixels: 32 },
    NHWC: { inChannels: 8, outChannels: 8, workgroup: 16, chunkPixels: 32 },
  },
  helperWorkgroup: 64,
};

export const TEST_TUNING: ConvTuning = { algorithms: NO_ALGORITHMS, tiles: TEST_TILES };

/** `base` with some algorithms switched and some tiles replaced. */
export function tuned(algorithms: Partial<ConvAlgorithms>, tiles: Partial<ConvTiles> = {}, base: ConvTuning = TEST_TUNING): ConvTuning {
  return { algorithms: { ...base.algorithms, ...algorithms }, tiles: { ...base.tiles, ...tiles } };
}

/**
 * Winograd tiles for the 3×3 stride-1 cases: 4 and 8 channels per invocation, 2 and 1 per step (the
 * step loop and its remainder, the one- and two-vec4 accumulators). 8 channels at 2 per step, the
 * hardware tile, is the same code and compiles for close to a minute per variant on lavapipe.
 */
export const WINOGRAD_TILES = [{ channels: 4, workgroup: 16, unroll: 2 }, { channels: 8, workgroup: 8, unroll: 1 }];

export function layoutShape(format: DataFormat, [n, ch, h, w]: readonly number[]): number[] {
  return format === 'NCHW' ? [n!, ch!, h!, w!] : [n!, h!, w!, ch!];
}

/** A convolution with x given as [N, C, H, W] (run in `format`), and random operands for its passes. */
export interface ConvCase { x: readonly [number, number, number, number]; out: number; k: readonly [number, number]; opts: Omit<Conv2dShapeOptions, 'dataFormat'> }

export function operands(c: ConvCase, format: DataFormat, seed: number) {
  const xShape = layoutShape(format, c.x);
  const wShape = [c.out, c.x[1], c.k[0], c.k[1]];
  const g = conv2dGeometry(xShape, wShape, { ...c.opts, dataFormat: format });
  const yShape = conv2dOutputShape(g);
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const xv = randomValues(size(c.x), 100 + seed);
  const wv = randomValues(size(wShape), 200 + seed);
  const bv = randomValues(c.out, 300 + seed);
  const dyv = randomValues(size(yShape), 400 + seed);
  return {
    g, xv, wv, bv, dyv, label: `x [${c.x}] w ${c.out}×${c.k.join('×')} ${JSON.stringify(c.opts)} ${format}`,
    x: () => tensor(Float32Array.from(xv), xShape),
    w: () => tensor(Float32Array.from(wv), wShape),
    b: () => tensor(Float32Array.from(bv), [c.out]),
    dy: () => tensor(Float32Array.from(dyv), yShape),
  };
}

type Operands = ReturnType<typeof operands>;

/** The pass's float64 reference and simple-kernel result for these operands. */
function oracle(pass: ConvPass | 'bias', o: Operands): { ref: Float64Array; simple: () => Tensor } {
  const g = o.g;
  switch (pass) {
    case 'forward': return { ref: conv2dForwardRef(o.xv, o.wv, o.bv, g), simple: () => conv2dForwardSimple(o.x(), o.w(), o.b(), g) };
    case 'backwardData': return { ref: conv2dBackwardDataRef(o.dyv, o.wv, g), simple: () => conv2dBackwardDataSimple(o.dy(), o.w(), g) };
    case 'backwardFilter': return { ref: conv2dBackwardFilterRef(o.xv, o.dyv, g), simple: () => conv2dBackwardFilterSimple(o.x(), o.dy(), g) };
    case 'bias': return { ref: conv2dBiasGradRef(o.dyv, g), simple: () => conv2dBiasGradSimple(o.dy(), g) };
  }
}

/**
 * Runs one pass under `tuning`, first checking that the planner sends it along `path` (named as
 * describeConvPath names it; null: any), and compares it and the simple kernel with the reference.
 * `run` replaces the plain pass call (e.g. with shared transforms).
 */
export async function checkPass(
  pass: ConvPass | 'bias', o: Operands, tuning: ConvTuning, path: string | null, what = '', run?: () => Tensor,
): Promise<void> {
  const name = `${o.label}: ${pass}${what ? ` (${what})` : ''}`;
  if (path !== null && pass !== 'bias') assert.equal(describeConvPath(planConv(o.g, pass, tuning)), path, `${name}: path`);
  const { ref, simple } = oracle(pass, o);
  const fast = run ?? (() => pass === 'forward' ? conv2dForward(o.x(), o.w(), o.b(), o.g, tuning)
    : pass === 'backwardData' ? conv2dBackwardData(o.dy(), o.w(), o.g, tuning)
    : pass === 'backwardFilter' ? conv2dBackwardFilter(o.x(), o.dy(), o.g, tuning)
    : conv2dBiasGrad(o.dy(), o.g, tuning));
  expectClose(await gpuValues(simple), ref, TOL, `${name}: simple kernel`);
  expectClose(await gpuValues(fast), ref, TOL, name);
}

/** Whether the planner gives this pass this path (for cases that only some shapes reach). */
export function takes(g: Conv2dGeometry, pass: ConvPass, tuning: ConvTuning, path: string): boolean {
  return describeConvPath(planConv(g, pass, tuning)) === path;
}

/** The shapes of the pass tests (x as [N, C, H, W]); every case runs in both formats. */
export const CASES: ConvCase[] = [
  { x: [2, 3, 8, 8], out: 5, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [1, 4, 5, 7], out: 8, k: [3, 3], opts: { stride: 2, padding: 'SAME' } },
  { x: [2, 6, 7, 6], out: 6, k: [2, 2], opts: { padding: 'SAME' } },
  { x: [1, 3, 6, 6], out: 4, k: [2, 2], opts: { stride: 2, padding: 'SAME' } },
  { x: [2, 3, 8, 8], out: 16, k: [2, 2], opts: { padding: 'SAME' } },
  { x: [2, 8, 4, 4], out: 12, k: [1, 1], opts: {} },
  { x: [3, 5, 3, 3], out: 7, k: [1, 1], opts: { padding: 'VALID' } },
  { x: [2, 16, 1, 1], out: 10, k: [1, 1], opts: {} },
  { x: [1, 4, 1, 1], out: 4, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [1, 4, 9, 9], out: 4, k: [3, 3], opts: { stride: 2, padding: 'VALID' } },
  { x: [2, 5, 6, 5], out: 3, k: [3, 3], opts: { padding: 1 } },
  { x: [1, 3, 7, 8], out: 9, k: [3, 2], opts: { stride: [2, 1], padding: [[0, 2], [1, 0]] } },
  { x: [2, 4, 5, 5], out: 4, k: [1, 1], opts: { stride: 2 } },
  { x: [2, 12, 4, 8], out: 8, k: [1, 1], opts: { padding: 1 } },
  // more pixels than one filter-gradient chunk, several channel tiles with ragged ends
  { x: [5, 20, 8, 8], out: 20, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [4, 8, 10, 10], out: 8, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [3, 16, 12, 12], out: 24, k: [1, 1], opts: {} },
  // Winograd tiles cut by the edges, padding that is not SAME (backward-data pads by 2 − pad)
  { x: [2, 6, 7, 9], out: 8, k: [3, 3], opts: { padding: [[0, 2], [2, 1]] } },
  { x: [1, 5, 6, 7], out: 4, k: [3, 3], opts: { padding: 'VALID' } },
];

/** The 3×3 stride-1 cases (Winograd's). */
export const WINOGRAD_CASES = CASES.filter((c) => c.k[0] === 3 && c.k[1] === 3 && (c.opts.stride ?? 1) === 1);

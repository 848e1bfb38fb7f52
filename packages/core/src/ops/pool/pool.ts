import {
  poolForwardKernel, poolBackwardKernel, maxPoolBackwardTilesKernel, maxPoolPairsForwardKernel, maxPoolPairsBackwardKernel, globalAvgPoolKernel, globalAvgPoolBackwardKernel,
  linearWorkgroups, poolRows, POOL_WG, type PoolOp,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { isGradEnabled, record } from '../../autograd.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

export type PoolPadding = 'SAME' | 'VALID' | number;

export interface Pool2dOptions {
  kernelSize: number | [number, number];
  /** defaults to the kernel size (non-overlapping windows) */
  stride?: number | [number, number];
  /**
   * 'SAME' (TensorFlow: output ceil(size/stride), the odd padding pixel at the bottom/right),
   * 'VALID' (no padding, the default) or a symmetric pad per side (at most half the kernel, as PyTorch).
   * Padding is never part of a window: max ignores it and avg divides by the valid count.
   */
  padding?: PoolPadding;
  /**
   * Output size rounded up rather than down (PyTorch's ceil_mode): a last, partial window is kept
   * when it starts inside the input or its left padding. Numeric padding only.
   */
  ceilMode?: boolean;
  /**
   * avg only: divide by the window's size including padding (PyTorch's count_include_pad, true
   * there by default) rather than by its valid elements (the default here, as TensorFlow).
   * Numeric padding only.
   */
  countIncludePad?: boolean;
  dataFormat?: DataFormat;
}

/** Sizes of a 2-D pooling: input [n, c, h, w] (whatever the layout), window, stride, output, padding. */
export interface Pool2dGeometry {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number; sh: number; sw: number;
  oh: number; ow: number; padTop: number; padLeft: number;
  channelsLast: boolean;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Output size and leading pad of one spatial axis. */
function axisGeometry(size: number, k: number, s: number, padding: PoolPadding, axis: string, ceilMode: boolean): { out: number; before: number } {
  if (ceilMode && padding === 'SAME') throw new Error(`pool ceilMode needs numeric padding, not 'SAME'`);
  if (padding === 'SAME') {
    const out = Math.ceil(size / s);
    return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
  }
  const p = padding === 'VALID' ? 0 : padding;
  if (!Number.isInteger(p) || p < 0) throw new Error(`pool padding must be 'SAME', 'VALID' or a non-negative integer, got ${String(padding)}`);
  if (p > k / 2) throw new Error(`pool padding ${p} is more than half the ${axis} kernel size ${k}`);
  let out = (ceilMode ? Math.ceil : Math.floor)((size + 2 * p - k) / s) + 1;
  // PyTorch drops a last window that would start past the input and its left padding
  if (ceilMode && (out - 1) * s >= size + p) out--;
  if (out < 1) throw new Error(`pool window ${k} with padding ${p} does not fit the input ${axis} ${size}`);
  return { out, before: p };
}

export function pool2dGeometry(shape: readonly number[], opts: Pool2dOptions): Pool2dGeometry {
  if (shape.length !== 4) throw new Error(`2-D pooling needs a rank-4 input, got [${shape}]`);
  const channelsLast = (opts.dataFormat ?? 'NCHW') === 'NHWC';
  const [n, c, h, w] = channelsLast ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
  const [kh, kw] = pair(opts.kernelSize);
  const [sh, sw] = pair(opts.stride ?? opts.kernelSize);
  for (const v of [kh, kw, sh, sw]) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`pool kernel size and stride must be positive integers, got kernel [${kh}, ${kw}], stride [${sh}, ${sw}]`);
  }
  const padding = opts.padding ?? 'VALID';
  const y = axisGeometry(h, kh, sh, padding, 'height', opts.ceilMode ?? false);
  const x = axisGeometry(w, kw, sw, padding, 'width', opts.ceilMode ?? false);
  return { n, c, h, w, kh, kw, sh, sw, oh: y.out, ow: x.out, padTop: y.before, padLeft: x.before, channelsLast };
}

function outputShape(g: Pool2dGeometry): number[] {
  return g.channelsLast ? [g.n, g.oh, g.ow, g.c] : [g.n, g.c, g.oh, g.ow];
}

/** vec4 over channels needs channels-last with C % 4 == 0. */
const vectorised = (g: Pool2dGeometry): boolean => g.channelsLast && g.c % 4 === 0;

const vectorsPerPixel = (g: Pool2dGeometry): number => (g.channelsLast ? (vectorised(g) ? g.c / 4 : g.c) : 1);

/** Uniforms and workgroups of a pass over the output rows (forward) or input rows (backward). */
function rowPass(g: Pool2dGeometry, pass: 'forward' | 'backward') {
  const cv = vectorsPerPixel(g);
  const count = poolRows(g.channelsLast, g.channelsLast ? g.n : g.n * g.c, pass === 'forward' ? g.oh : g.h, cv);
  const uniforms = {
    count, cv, h: g.h, w: g.w, oh: g.oh, ow: g.ow, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, padTop: g.padTop, padLeft: g.padLeft,
  };
  return { uniforms, workgroups: linearWorkgroups(count, POOL_WG) };
}

/** The windows cover the input exactly once: kernel == stride, no padding, nothing left over. */
export const windowsTile = (g: Pool2dGeometry): boolean =>
  g.kh === g.sh && g.kw === g.sw && g.padTop === 0 && g.padLeft === 0 && g.oh * g.sh === g.h && g.ow * g.sw === g.w;

/**
 * Which kernels a max pool runs, chosen once for both passes: 'pairs' — NCHW windows two wide that
 * tile the input with whole vec4s per output row (`maxPoolPairs*`); 'tiles' — windows that tile the
 * input, so the backward lets each window write its own inputs (2–3× faster than gathering per
 * input, bench/README.md); 'general' — any windows (the backward gathers per input element).
 */
export type MaxPoolPath = 'pairs' | 'tiles' | 'general';

export function planMaxPool(g: Pool2dGeometry): MaxPoolPath {
  if (!g.channelsLast && windowsTile(g) && g.kw === 2 && g.ow % 4 === 0) return 'pairs';
  if (windowsTile(g)) return 'tiles';
  return 'general';
}

function poolBackward(op: PoolOp, g: Pool2dGeometry, inShape: readonly number[], grad: Tensor, positions?: Tensor, includePad = false): Tensor {
  const dx = allocTensor(inShape);
  const path = op === 'max' ? planMaxPool(g) : 'general';
  if (path !== 'general') {
    const pass = rowPass(g, 'forward');
    const bindings = [grad, positions!, dx];
    if (path === 'pairs') grad.runtime.run(maxPoolPairsBackwardKernel, {}, bindings, pass.uniforms, pass.workgroups);
    else grad.runtime.run(maxPoolBackwardTilesKernel, { channelsLast: g.channelsLast, vec: vectorised(g) }, bindings, pass.uniforms, pass.workgroups);
    return dx;
  }
  const pass = rowPass(g, 'backward');
  grad.runtime.run(poolBackwardKernel, { op, channelsLast: g.channelsLast, vec: vectorised(g), ...(includePad ? { includePad: true as const } : {}) },
    op === 'max' ? [grad, positions!, dx] : [grad, dx], pass.uniforms, pass.workgroups);
  return dx;
}

/**
 * Max over each window. The gradient goes to the window's first maximum (row-major, as PyTorch);
 * the forward saves that position per output so the backward gathers without atomics.
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = pool2dGeometry(x.shape, opts);
  const y = allocTensor(outputShape(g));
  const pass = rowPass(g, 'forward');
  const savePositions = isGradEnabled() && x.requiresGrad;
  // Window positions (ky·kw + kx) stored as f32, exact for any window under 2^24 elements, so
  // the NHWC path can compare four channels at once.
  const positions = savePositions ? allocTensor(y.shape) : null;
  const bindings = positions ? [x, y, positions] : [x, y];
  if (planMaxPool(g) === 'pairs') x.runtime.run(maxPoolPairsForwardKernel, { savePositions }, bindings, pass.uniforms, pass.workgroups);
  else x.runtime.run(poolForwardKernel, { op: 'max', channelsLast: g.channelsLast, vec: vectorised(g), savePositions }, bindings, pass.uniforms, pass.workgroups);
  if (!positions) return y;
  const inShape = [...x.shape];
  record(y, 'maxPool2d', [x], [positions], (grad, [pos]) => [poolBackward('max', g, inShape, grad, pos!)]);
  positions.dispose();
  return y;
}

/** Mean over each window's valid (unpadded) elements, or over the whole padded window with `countIncludePad`. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = pool2dGeometry(x.shape, opts);
  const includePad = (opts.countIncludePad ?? false) && g.padTop + g.padLeft > 0;
  if (includePad && typeof opts.padding !== 'number') throw new Error(`avgPool2d: countIncludePad needs numeric padding, got ${String(opts.padding)}`);
  const y = allocTensor(outputShape(g));
  const pass = rowPass(g, 'forward');
  x.runtime.run(poolForwardKernel, { op: 'avg', channelsLast: g.channelsLast, vec: vectorised(g), savePositions: false, ...(includePad ? { includePad: true as const } : {}) },
    [x, y], pass.uniforms, pass.workgroups);
  const inShape = [...x.shape];
  return record(y, 'avgPool2d', [x], [], (grad) => [poolBackward('avg', g, inShape, grad, undefined, includePad)]);
}

export interface GlobalAvgPoolOptions { dataFormat?: DataFormat }

/** Mean over the spatial axes of a rank-4 tensor → [N, C]. */
export function globalAvgPool(x: Tensor, opts: GlobalAvgPoolOptions = {}): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool needs a rank-4 input, got [${x.shape}]`);
  const channelsLast = (opts.dataFormat ?? 'NCHW') === 'NHWC';
  const [n, c, s] = channelsLast ? [x.shape[0]!, x.shape[3]!, x.shape[1]! * x.shape[2]!] : [x.shape[0]!, x.shape[1]!, x.shape[2]! * x.shape[3]!];
  const vec = channelsLast ? c % 4 === 0 : s % 4 === 0;
  const cv = channelsLast && vec ? c / 4 : c;
  const sv = !channelsLast && vec ? s / 4 : s;
  const y = allocTensor([n, c]);
  const params = { channelsLast, vec };
  const outVectors = channelsLast ? n * cv : n * c;
  x.runtime.run(globalAvgPoolKernel, params, [x, y], { count: outVectors, sv, cv, invS: 1 / s }, linearWorkgroups(outVectors, POOL_WG));
  const inShape = [...x.shape];
  return record(y, 'globalAvgPool', [x], [], (grad) => {
    const dx = allocTensor(inShape);
    const count = vec ? dx.size / 4 : dx.size;
    grad.runtime.run(globalAvgPoolBackwardKernel, params, [grad, dx], { count, sv, cv, invS: 1 / s }, linearWorkgroups(count, POOL_WG));
    return [dx];
  });
}

import { convPartialSumKernel, gridWorkgroups, type ConvTiles } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { subgroupSizeDividing } from '../../runtime/device.js';
import type { Conv2dGeometry } from './geometry.js';

/**
 * Batch-norm statistics of a convolution's output, summed by the kernel that wrote it: partials
 * [2·parts + 1, C] of Σ(y − shift) and Σ(y − shift)² per channel, then the shift's values as summed,
 * `shift` being the batch norm's running mean (what the batch norm adds back). batchNorm and its
 * fused variants take them as their `statistics` option and skip their own pass over y.
 */
export interface ChannelStatistics { partials: Tensor; parts: number; shift: Tensor }

/** What a forward can hand on besides y (conv2dForwardWith). */
export interface ForwardWants {
  /** Winograd-GEMM's transformed input V, for conv2dBackwardFilter's `transformedX`. */
  transformedX?: boolean;
  /** Winograd-GEMM's transformed filter U, for the adjoint conv2dBackwardData's `transformedW`. */
  transformedW?: boolean;
  /** The batch-norm statistics of y, shifted by this [O] tensor (where the forward's path sums them). */
  statisticsShift?: Tensor | null;
}

/** A forward or backward-data family's result: dst and what it kept for later passes (null where not). */
export interface PassResult { dst: Tensor; v: Tensor | null; u: Tensor | null; statistics: ChannelStatistics | null }

/** The partials a forward's epilogue sums into (one per tile of `parts`), where `shift` is given. */
export function outputStatistics(shift: Tensor | null | undefined, g: Conv2dGeometry, parts: number): ChannelStatistics | null {
  return shift ? { partials: allocTensor([2 * parts + 1, g.O]), parts, shift } : null;
}

/** The name of the path whose kernels are being recorded (describeConvPath's), for their trace args. */
let pathName: string | null = null;

/** Runs a pass's kernels under its path's name (a pass nested in another keeps the outer one's: NCHW through NHWC). */
export function onPath<T>(name: string, fn: () => T): T {
  if (pathName !== null) return fn();
  pathName = name;
  try { return fn(); } finally { pathName = null; }
}

/** A kernel's trace args, with the path it runs for (so `squeeze trace` shows which algorithm ran). */
export function traceArgs(args: Record<string, unknown> = {}): Record<string, unknown> {
  return pathName === null ? args : { ...args, path: pathName };
}

/**
 * The subgroup size for a kernel that shares loads across subgroups (`wanted` by the tiles), when
 * the device has a fixed one that divides every count given (tile widths, tiles, workgroup); else 0.
 */
export function sharingSubgroup(rt: Tensor['runtime'], wanted: boolean | undefined, ...counts: number[]): number {
  return wanted ? subgroupSizeDividing(rt.description, ...counts) : 0;
}

/** Sums [chunks][rows][rowVec4s·4] partials into out (see convPartialSumKernel). */
export function sumPartials(
  partial: Tensor, out: Tensor, d: { rows: number; C: number; taps: number; O: number; rowVec4s: number; chunks: number }, tiles: ConvTiles, sameOrder = false,
): void {
  const groups = Math.ceil(d.O / 4);
  partial.runtime.run(convPartialSumKernel, { workgroup: tiles.helperWorkgroup, ...(sameOrder ? { sameOrder } : {}) }, [partial, out],
    { ...d, groups }, gridWorkgroups(groups, d.C, d.taps, tiles.helperWorkgroup), traceArgs());
}

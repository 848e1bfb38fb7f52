import {
  groupedConvForwardKernel, depthwiseConvForwardVec4Kernel, groupedConvBackwardDataKernel, groupedConvBackwardFilterKernel,
  depthwiseSlidingKernel, depthwiseFilterGradKernel, linearWorkgroups, GROUPED_CONV_WG, DEPTHWISE_MAX_K,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Shape, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { sum } from '../reduce/reduce.js';
import type { Conv2dPadding } from '../conv2d/geometry.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

export interface GroupedConv2dOptions {
  stride?: number | [number, number];
  /** as conv2d's: 'SAME' (TensorFlow's split, with the dilated kernel extent), 'VALID', a pad per side, or [[top, bottom], [left, right]]. */
  padding?: Conv2dPadding;
  /** spacing between kernel taps (PyTorch's dilation; default 1). */
  dilation?: number | [number, number];
  /** input and output channels split into this many groups (default 1; C for depthwise). */
  groups?: number;
  dataFormat?: DataFormat;
  /** [O] */
  bias?: Tensor;
}

/** Sizes of a grouped convolution, resolved once; x [N, C, H, W] or NHWC, w [O, C/groups, KH, KW]. */
export interface GroupedConv2dGeometry {
  channelsLast: boolean;
  N: number; C: number; H: number; W: number; O: number; KH: number; KW: number; OH: number; OW: number;
  sh: number; sw: number; dh: number; dw: number; padTop: number; padLeft: number;
  groups: number; cinPG: number; coutPG: number;
}

const pair = (v: number | [number, number] | undefined, name: string): [number, number] => {
  const p: [number, number] = v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;
  if (!p.every((s) => Number.isInteger(s) && s >= 1)) throw new Error(`groupedConv2d: ${name} must be integers >= 1, got ${JSON.stringify(v)}`);
  return p;
};

export function groupedConv2dGeometry(xShape: Shape, wShape: Shape, opts: Omit<GroupedConv2dOptions, 'bias'> = {}): GroupedConv2dGeometry {
  const dataFormat = opts.dataFormat ?? 'NCHW';
  const channelsLast = dataFormat === 'NHWC';
  if (xShape.length !== 4) throw new Error(`groupedConv2d: x must be rank 4 (${dataFormat}), got [${xShape}]`);
  if (wShape.length !== 4) throw new Error(`groupedConv2d: w must be [out, in/groups, kh, kw], got [${wShape}]`);
  const [N, C, H, W] = (channelsLast ? [xShape[0], xShape[3], xShape[1], xShape[2]] : xShape) as [number, number, number, number];
  const [O, cinPG, KH, KW] = wShape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0) {
    throw new Error(`groupedConv2d: groups ${groups} must divide the ${C} input and ${O} output channels`);
  }
  if (cinPG * groups !== C) throw new Error(`groupedConv2d: x [${xShape}] (${dataFormat}) has ${C} channels, so w [${wShape}] needs ${C / groups} input channels per group (groups ${groups})`);
  const [sh, sw] = pair(opts.stride, 'stride');
  const [dh, dw] = pair(opts.dilation, 'dilation');
  const [eh, ew] = [(KH - 1) * dh + 1, (KW - 1) * dw + 1];
  const padding = opts.padding ?? 'VALID';
  let pads: [number, number, number, number];
  if (padding === 'SAME') {
    const total = (size: number, s: number, e: number) => Math.max((Math.ceil(size / s) - 1) * s + e - size, 0);
    const [ph, pw] = [total(H, sh, eh), total(W, sw, ew)];
    pads = [Math.floor(ph / 2), ph - Math.floor(ph / 2), Math.floor(pw / 2), pw - Math.floor(pw / 2)];
  } else {
    pads = padding === 'VALID' ? [0, 0, 0, 0]
      : typeof padding === 'number' ? [padding, padding, padding, padding]
      : [padding[0][0], padding[0][1], padding[1][0], padding[1][1]];
    if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw new Error(`groupedConv2d: padding must be integers >= 0, got ${JSON.stringify(padding)}`);
  }
  const OH = Math.floor((H + pads[0] + pads[1] - eh) / sh) + 1;
  const OW = Math.floor((W + pads[2] + pads[3] - ew) / sw) + 1;
  if (!(OH >= 1 && OW >= 1)) throw new Error(`groupedConv2d: a ${KH}×${KW} kernel dilated ${dh}×${dw} does not fit the ${H}×${W} input with padding ${JSON.stringify(padding)}`);
  return { channelsLast, N, C, H, W, O, KH, KW, OH, OW, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], groups, cinPG, coutPG: O / groups };
}

function uniforms(g: GroupedConv2dGeometry, count: number) {
  const { N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, padTop, padLeft, cinPG, coutPG } = g;
  return { count, N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, padTop, padLeft, cinPG, coutPG };
}

/** Depthwise (one input and one output channel per group), stride 1, no dilation, a small kernel: the sliding-window kernels apply. */
function slides(g: GroupedConv2dGeometry): boolean {
  return g.cinPG === 1 && g.coutPG === 1 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && g.KH <= DEPTHWISE_MAX_K && g.KW <= DEPTHWISE_MAX_K;
}

/**
 * 2-D convolution with `groups` and `dilation` (PyTorch's `F.conv2d`): x [N, C, H, W] (or NHWC),
 * w [O, C/groups, KH, KW] in both layouts. Direct kernels: depthwise convolutions with stride 1
 * slide a window of inputs along each row (all three passes); other depthwise convolutions skip the
 * channel loop and, in NHWC with O = C a multiple of 4, run four channels per invocation.
 */
export function groupedConv2d(x: Tensor, w: Tensor, opts: GroupedConv2dOptions = {}): Tensor {
  const g = groupedConv2dGeometry(x.shape, w.shape, opts);
  const bias = opts.bias;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== g.O)) throw new Error(`groupedConv2d: bias must be [${g.O}], got [${bias.shape}]`);
  const outShape = g.channelsLast ? [g.N, g.OH, g.OW, g.O] : [g.N, g.O, g.OH, g.OW];
  const y = allocTensor(outShape);
  const depthwise = g.cinPG === 1;
  const params = { channelsLast: g.channelsLast, depthwise };
  const bound = [x, w, ...(bias ? [bias] : []), y];
  const sliding = slides(g);
  const kernelSize = { channelsLast: g.channelsLast, kh: g.KH, kw: g.KW };
  // the kernels own output rows: (image, channel, oy), or (image, oy, four channels)
  if (sliding) {
    const rows = g.N * g.C * g.OH;
    x.runtime.run(depthwiseSlidingKernel, { ...kernelSize, flip: false, bias: !!bias }, bound, uniforms(g, rows), linearWorkgroups(rows, GROUPED_CONV_WG));
  } else if (depthwise && g.channelsLast && g.coutPG === 1 && g.C % 4 === 0) {
    const rows = g.N * g.OH * (g.C / 4);
    x.runtime.run(depthwiseConvForwardVec4Kernel, { bias: !!bias }, bound, uniforms(g, rows), linearWorkgroups(rows, GROUPED_CONV_WG));
  } else {
    const rows = g.N * g.O * g.OH;
    x.runtime.run(groupedConvForwardKernel, { ...params, bias: !!bias }, bound, uniforms(g, rows), linearWorkgroups(rows, GROUPED_CONV_WG));
  }
  const xShape = [...x.shape];
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'groupedConv2d', inputs, [x, w], (dy, [xs, ws], needs) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (needs[0]) {
      dx = allocTensor(xShape);
      const rows = g.N * g.C * g.H;
      if (sliding) {
        // dx is dy convolved with the flipped filter: source OH×OW, destination H×W, padding K−1−pad
        const flipped = { ...g, H: g.OH, W: g.OW, OH: g.H, OW: g.W, padTop: g.KH - 1 - g.padTop, padLeft: g.KW - 1 - g.padLeft };
        dy.runtime.run(depthwiseSlidingKernel, { ...kernelSize, flip: true, bias: false }, [dy, ws!, dx], uniforms(flipped, rows), linearWorkgroups(rows, GROUPED_CONV_WG));
      } else {
        dy.runtime.run(groupedConvBackwardDataKernel, params, [dy, ws!, dx], uniforms(g, rows), linearWorkgroups(rows, GROUPED_CONV_WG));
      }
    }
    if (needs[1]) {
      dw = allocTensor(ws!.shape);
      if (sliding) dy.runtime.run(depthwiseFilterGradKernel, kernelSize, [xs!, dy, dw], uniforms(g, g.C), linearWorkgroups(g.C, 1));
      else dy.runtime.run(groupedConvBackwardFilterKernel, params, [xs!, dy, dw], uniforms(g, dw.size), linearWorkgroups(dw.size, 1));
    }
    const db = bias && needs[2] ? sum(dy, g.channelsLast ? [0, 1, 2] : [0, 2, 3]) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

import {
  conv2dForwardSimpleKernel, conv2dBackwardDataSimpleKernel, conv2dBackwardFilterSimpleKernel, conv2dBiasGradSimpleKernel,
  linearWorkgroups, SIMPLE_CONV_WG,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../../tensor.js';
import { conv2dInputShape, conv2dOutputShape, type Conv2dGeometry } from '../geometry.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

// The straightforward GPU kernels, one output element per invocation: a second oracle for the tests
// (beside the float64 reference) and the bench's baseline. Not part of the public API.

/** Strides of (n, c, h, w) for a tensor of the geometry's format with the given sizes. */
function strides(format: DataFormat, C: number, H: number, W: number): number[] {
  return format === 'NCHW' ? [C * H * W, H * W, W, 1] : [H * W * C, 1, W * C, C];
}

function simpleUniforms(g: Conv2dGeometry, total: number): Record<string, number | number[]> {
  return {
    xStrides: strides(g.dataFormat, g.C, g.H, g.W), yStrides: strides(g.dataFormat, g.O, g.OH, g.OW),
    N: g.N, C: g.C, H: g.H, W: g.W, O: g.O, KH: g.KH, KW: g.KW, OH: g.OH, OW: g.OW,
    strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, total,
  };
}

export function conv2dForwardSimple(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry): Tensor {
  const y = allocTensor(conv2dOutputShape(g));
  x.runtime.run(conv2dForwardSimpleKernel, { bias: bias !== null }, bias ? [x, w, bias, y] : [x, w, y],
    simpleUniforms(g, y.size), linearWorkgroups(y.size, SIMPLE_CONV_WG));
  return y;
}

export function conv2dBackwardDataSimple(dy: Tensor, w: Tensor, g: Conv2dGeometry): Tensor {
  const dx = allocTensor(conv2dInputShape(g));
  dy.runtime.run(conv2dBackwardDataSimpleKernel, {}, [dy, w, dx], simpleUniforms(g, dx.size), linearWorkgroups(dx.size, SIMPLE_CONV_WG));
  return dx;
}

export function conv2dBackwardFilterSimple(x: Tensor, dy: Tensor, g: Conv2dGeometry): Tensor {
  const dw = allocTensor([g.O, g.C, g.KH, g.KW]);
  x.runtime.run(conv2dBackwardFilterSimpleKernel, {}, [x, dy, dw], simpleUniforms(g, dw.size), linearWorkgroups(dw.size, SIMPLE_CONV_WG));
  return dw;
}

export function conv2dBiasGradSimple(dy: Tensor, g: Conv2dGeometry): Tensor {
  const db = allocTensor([g.O]);
  dy.runtime.run(conv2dBiasGradSimpleKernel, {}, [dy, db], simpleUniforms(g, g.O), linearWorkgroups(g.O, SIMPLE_CONV_WG));
  return db;
}

import { type ConvTuning } from '@squeeze/kernels-wgsl';
import { type Shape, type Tensor } from '../../tensor.js';
export type Conv2dDataFormat = 'NCHW' | 'NHWC';
export type Conv2dPadding = 'SAME' | 'VALID' | number | [[number, number], [number, number]];
export interface Conv2dOptions {
    stride?: number | [number, number];
    /** SAME follows TensorFlow: total pad max((ceil(H/s)−1)·s + k − H, 0), the odd pixel at the bottom/right. */
    padding?: Conv2dPadding;
    dataFormat?: Conv2dDataFormat;
    /** [out] */
    bias?: Tensor;
}
/** Every size a convolution needs, resolved once from the shapes and options. */
export interface Conv2dGeometry {
    dataFormat: Conv2dDataFormat;
    N: number;
    C: number;
    H: number;
    W: number;
    O: number;
    KH: number;
    KW: number;
    OH: number;
    OW: number;
    strideH: number;
    strideW: number;
    padTop: number;
    padBottom: number;
    padLeft: number;
    padRight: number;
}
/** Resolves shapes and options; x is [N, C, H, W] or [N, H, W, C], w is [O, C, KH, KW] in both formats. */
export declare function conv2dGeometry(xShape: Shape, wShape: Shape, opts?: Omit<Conv2dOptions, 'bias'>): Conv2dGeometry;
export declare function conv2dOutputShape(g: Conv2dGeometry): number[];
export declare function conv2dForwardSimple(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry): Tensor;
export declare function conv2dBackwardDataSimple(dy: Tensor, w: Tensor, g: Conv2dGeometry): Tensor;
export declare function conv2dBackwardFilterSimple(x: Tensor, dy: Tensor, g: Conv2dGeometry): Tensor;
export declare function conv2dBiasGradSimple(dy: Tensor, g: Conv2dGeometry): Tensor;
export declare function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning?: ConvTuning): Tensor;
export declare function conv2dBackwardData(dy: Tensor, w: Tensor, g: Conv2dGeometry, tuning?: ConvTuning): Tensor;
export declare function conv2dBackwardFilter(x: Tensor, dy: Tensor, g: Conv2dGeometry, tuning?: ConvTuning): Tensor;
export declare function conv2dBiasGrad(dy: Tensor, g: Conv2dGeometry, tuning?: ConvTuning): Tensor;
/**
 * 2-D convolution (cross-correlation, as PyTorch and TensorFlow). x is [N, C, H, W] (NCHW, default)
 * or [N, H, W, C] (NHWC); w is always [out, in, kh, kw]; dilation 1.
 */
export declare function conv2d(x: Tensor, w: Tensor, opts?: Conv2dOptions): Tensor;

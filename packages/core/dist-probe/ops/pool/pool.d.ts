import { type Tensor } from '../../tensor.js';
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
    dataFormat?: 'NCHW' | 'NHWC';
}
/** Sizes of a 2-D pooling: input [n, c, h, w] (whatever the layout), window, stride, output, padding. */
export interface Pool2dGeometry {
    n: number;
    c: number;
    h: number;
    w: number;
    kh: number;
    kw: number;
    sh: number;
    sw: number;
    oh: number;
    ow: number;
    padTop: number;
    padLeft: number;
    channelsLast: boolean;
}
export declare function pool2dGeometry(shape: readonly number[], opts: Pool2dOptions): Pool2dGeometry;
/**
 * Max over each window. The gradient goes to the window's first maximum (row-major, as PyTorch);
 * the forward saves that position per output so the backward gathers without atomics.
 */
export declare function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor;
/** Mean over each window's valid (unpadded) elements. */
export declare function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor;
export interface GlobalAvgPoolOptions {
    dataFormat?: 'NCHW' | 'NHWC';
}
/** Mean over the spatial axes of a rank-4 tensor → [N, C]. */
export declare function globalAvgPool(x: Tensor, opts?: GlobalAvgPoolOptions): Tensor;

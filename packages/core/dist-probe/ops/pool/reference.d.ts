import { type Pool2dOptions } from './pool.js';
/** Max or average pooling; padding never counts (avg divides by the valid elements). */
export declare function pool2dRef(op: 'max' | 'avg', x: Float64Array, shape: number[], opts: Pool2dOptions): Float64Array;
/** Gradient of max pooling: each window's upstream gradient goes to its first maximum (row-major). */
export declare function maxPool2dGradRef(x: Float64Array, shape: number[], opts: Pool2dOptions, gy: Float64Array): Float64Array;
/** Mean over the spatial axes → [N, C]. */
export declare function globalAvgPoolRef(x: Float64Array, shape: number[], dataFormat: 'NCHW' | 'NHWC'): Float64Array;
/** [N, C, H, W] values re-laid out as [N, H, W, C]. */
export declare function nchwToNhwc(x: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array;
/** [N, H, W, C] values re-laid out as [N, C, H, W] (`shape` is the NCHW shape). */
export declare function nhwcToNchw(x: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array;

import type { Conv2dGeometry } from './conv2d.js';
export declare function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: Conv2dGeometry): Float64Array;
export declare function conv2dBackwardDataRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: Conv2dGeometry): Float64Array;
export declare function conv2dBackwardFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Conv2dGeometry): Float64Array;
export declare function conv2dBiasGradRef(dy: ArrayLike<number>, g: Conv2dGeometry): Float64Array;
/** Reorders an NCHW array to NHWC (to compare the two formats). */
export declare function nchwToNhwc(a: ArrayLike<number>, N: number, C: number, H: number, W: number): Float64Array;

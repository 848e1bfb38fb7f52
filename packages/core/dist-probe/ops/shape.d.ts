import type { Shape } from '../tensor.js';
/** Row-major strides. */
export declare function stridesOf(shape: Shape): number[];
/** NumPy broadcasting of two shapes; throws naming both shapes when incompatible. */
export declare function broadcastShapes(a: Shape, b: Shape): number[];
/** Strides of `shape` read as `outShape` under broadcasting (0 on broadcast axes). */
export declare function broadcastStrides(shape: Shape, outShape: Shape): number[];
/** Normalises possibly negative axes (Python style); undefined = all axes. */
export declare function normaliseAxes(axes: number | number[] | undefined, rank: number): number[];
export declare function sameShape(a: Shape, b: Shape): boolean;

import { type Tensor } from '../../tensor.js';
/** The same elements under another shape (one axis may be -1); a view: no copy. */
export declare function reshape(x: Tensor, shape: readonly number[]): Tensor;
/** Merges axes startDim.. into one: [N, C, H, W] → [N, C·H·W] for startDim 1. A view. */
export declare function flatten(x: Tensor, startDim?: number): Tensor;
/** Reorders axes: output axis i is input axis dims[i]. */
export declare function permute(x: Tensor, dims: readonly number[]): Tensor;
/** Swaps two axes (default the last two: the matrix transpose for 2-D). */
export declare function transpose(x: Tensor, dim0?: number, dim1?: number): Tensor;
/** The block starting at `begin` of extent `size` (-1 = to the end) along every axis. */
export declare function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor;
/** Constant padding: `paddings[d] = [before, after]` elements along axis d. */
export declare function pad(x: Tensor, paddings: ReadonlyArray<readonly [number, number]>, value?: number): Tensor;
/** Joins tensors along `axis`; every other axis must match. */
export declare function concat(xs: readonly Tensor[], axis: number): Tensor;

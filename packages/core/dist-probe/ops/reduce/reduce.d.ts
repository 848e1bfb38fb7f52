import { type Tensor } from '../../tensor.js';
/** Sum over `axes` (all when omitted). */
export declare function sum(x: Tensor, axes?: number | number[], keepDims?: boolean): Tensor;
/** Mean over `axes` (all when omitted). */
export declare function mean(x: Tensor, axes?: number | number[], keepDims?: boolean): Tensor;
/** Max over `axes`; the gradient flows to every position equal to the max. */
export declare function max(x: Tensor, axes?: number | number[], keepDims?: boolean): Tensor;
/** Index of the maximum along `axis` (int32; the first one on ties). Not differentiable. */
export declare function argmax(x: Tensor, axis?: number, keepDims?: boolean): Tensor;
/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` up to g's shape). */
export declare function sumTo(g: Tensor, shape: readonly number[]): Tensor;
/** Broadcasts g (whose shape is `ones`: `shape` with reduced axes 1, possibly squeezed) to `shape`. */
export declare function broadcastTo(g: Tensor, ones: readonly number[], shape: readonly number[]): Tensor;

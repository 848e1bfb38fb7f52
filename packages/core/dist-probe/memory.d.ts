import type { Tensor } from './tensor.js';
export declare function track(t: Tensor): void;
export declare function untrack(t: Tensor): void;
export declare function noteDisposed(): void;
export declare function liveTensorCount(): number;
/** Takes `t` out of every scope: it lives until disposed explicitly. */
export declare function keep<T extends Tensor>(t: T): T;
type Returned = Tensor | Tensor[] | Record<string, Tensor> | void | number | string | boolean | null | undefined | object;
export declare function registerTensorClass(c: Function): void;
/** Runs `fn`, then disposes every tensor it created that is not part of its (sync) result. */
export declare function tidy<T extends Returned>(fn: () => T): T;
export {};

import { Tensor } from '../tensor.js';
/**
 * A value to load into a tensor: another tensor (copied on the GPU) or host data with its shape,
 * such as a tensor read from a safetensors checkpoint (`{ dtype, shape, data }` fits).
 */
export type StateValue = Tensor | {
    readonly shape: readonly number[];
    readonly data: ArrayLike<number>;
};
/** Throws, naming `key`, unless `value` can be copied into `target` (same shape, dtype, size). */
export declare function checkStateValue(key: string, target: Tensor, value: StateValue): void;
/** Copies `value` into `target` in stream order (checked with `checkStateValue` first). */
export declare function copyStateValue(target: Tensor, value: StateValue): void;
/** Plain-object or Map entries, in insertion order. */
export declare function stateEntries<V>(values: Record<string, V> | Map<string, V>): Array<[string, V]>;

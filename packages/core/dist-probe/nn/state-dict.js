import { Tensor } from '../tensor.js';
import { sameShape } from '../ops/shape.js';
/** Throws, naming `key`, unless `value` can be copied into `target` (same shape, dtype, size). */
export function checkStateValue(key, target, value) {
    if (!sameShape(target.shape, value.shape)) {
        throw new Error(`state '${key}': shape [${value.shape}] in the state dict does not match [${target.shape}] in the model`);
    }
    if (value instanceof Tensor) {
        if (value.dtype !== target.dtype)
            throw new Error(`state '${key}': dtype ${value.dtype} in the state dict does not match ${target.dtype}`);
    }
    else if (value.data.length !== target.size) {
        throw new Error(`state '${key}': ${value.data.length} values in the state dict for shape [${value.shape}] (${target.size} expected)`);
    }
}
/** Copies `value` into `target` in stream order (checked with `checkStateValue` first). */
export function copyStateValue(target, value) {
    if (target.size === 0)
        return;
    const rt = target.runtime;
    if (value instanceof Tensor)
        rt.copy(value, target, target.byteLength);
    else if (target.dtype === 'f32')
        rt.write(target, value.data instanceof Float32Array ? value.data : Float32Array.from(value.data));
    else
        rt.write(target, value.data instanceof Int32Array ? value.data : Int32Array.from(value.data));
}
/** Plain-object or Map entries, in insertion order. */
export function stateEntries(values) {
    return values instanceof Map ? [...values.entries()] : Object.entries(values);
}
//# sourceMappingURL=state-dict.js.map
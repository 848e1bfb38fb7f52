import { fillKernel, linearWorkgroups, ELEMENTWISE_WG } from '@squeeze/kernels-wgsl';
import { allocTensor, sizeOf } from '../../tensor.js';
import { getRuntime } from '../../runtime/global.js';
import { Random } from '../../random.js';
function flatten(values, shape, depth = 0, out = []) {
    if (Array.isArray(values)) {
        if (shape.length === depth)
            shape.push(values.length);
        else if (shape[depth] !== values.length)
            throw new Error('ragged nested array: every row must have the same length');
        for (const v of values)
            flatten(v, shape, depth + 1, out);
    }
    else {
        if (depth !== shape.length)
            throw new Error('ragged nested array: mixed numbers and arrays');
        out.push(values);
    }
    return out;
}
/** A tensor from numbers, nested arrays or a typed array (with `shape`). */
export function tensor(values, shape, dtype) {
    let flat;
    let s;
    if (typeof values === 'number' || Array.isArray(values)) {
        s = [];
        flat = flatten(values, s);
        if (shape) {
            if (sizeOf(shape) !== flat.length)
                throw new Error(`${flat.length} values do not fill shape [${shape}]`);
            s = [...shape];
        }
    }
    else {
        flat = values;
        s = shape ? [...shape] : [values.length];
        if (sizeOf(s) !== flat.length)
            throw new Error(`${flat.length} values do not fill shape [${s}]`);
    }
    const dt = dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
    const t = allocTensor(s, dt);
    if (flat.length > 0)
        getRuntime().write(t, dt === 'i32' ? Int32Array.from(flat) : Float32Array.from(flat));
    return t;
}
/** A tensor filled with `value`. */
export function full(shape, value, dtype = 'f32') {
    const t = allocTensor(shape, dtype);
    const n = dtype === 'f32' ? Math.ceil(t.size / 4) : t.size;
    getRuntime().run(fillKernel, { type: dtype }, [t], { n4: n, value }, linearWorkgroups(n, ELEMENTWISE_WG));
    return t;
}
export const zeros = (shape) => full(shape, 0);
export const ones = (shape) => full(shape, 1);
export const zerosLike = (t) => full(t.shape, 0);
export const onesLike = (t) => full(t.shape, 1);
/** Normal(mean, std) values from a seeded generator (reproducible). */
export function randn(shape, opts = {}) {
    const rng = opts.rng ?? new Random(opts.seed ?? Date.now());
    const v = new Float32Array(sizeOf(shape));
    for (let i = 0; i < v.length; i++)
        v[i] = (opts.mean ?? 0) + (opts.std ?? 1) * rng.normal();
    return tensor(v, shape);
}
/** Uniform [low, high) values from a seeded generator (reproducible). */
export function rand(shape, opts = {}) {
    const rng = opts.rng ?? new Random(opts.seed ?? Date.now());
    const v = new Float32Array(sizeOf(shape));
    for (let i = 0; i < v.length; i++)
        v[i] = rng.uniform(opts.low ?? 0, opts.high ?? 1);
    return tensor(v, shape);
}
//# sourceMappingURL=creation.js.map
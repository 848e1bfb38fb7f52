import { tensor } from '../ops/creation/creation.js';
import { Random } from '../random.js';
import { tidy } from '../memory.js';
/** Throws naming the first element where |a - e| > atol + rtol·|e|. */
export function expectClose(actual, expected, tol, label = 'values') {
    if (actual.length !== expected.length)
        throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < actual.length; i++) {
        const a = actual[i];
        const e = expected[i];
        const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
        if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
            worst = i;
            worstExcess = excess;
        }
    }
    if (worst >= 0) {
        throw new Error(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`);
    }
}
/** Deterministic random test values in [lo, hi). */
export function randomValues(n, seed, lo = -1, hi = 1) {
    const r = new Random(seed);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++)
        v[i] = r.uniform(lo, hi);
    return v;
}
/**
 * Compares the GPU gradient of `gpu` with central finite differences of the float64 reference
 * `ref`, both contracted with the same random upstream gradient (so any output shape works).
 */
export async function gradCheck(opts) {
    const eps = opts.eps ?? 1e-3;
    const values = opts.inputs.map((i) => i.values);
    const out0 = opts.ref(values);
    const upstream = randomValues(out0.length, opts.seed ?? 99);
    const objective = (xs) => {
        const o = opts.ref(xs);
        let s = 0;
        for (let i = 0; i < o.length; i++)
            s += o[i] * upstream[i];
        return s;
    };
    const ts = opts.inputs.map((i) => tensor(Float32Array.from(i.values), i.shape).requireGrad(i.grad !== false));
    const out = opts.gpu(ts);
    const g = tensor(Float32Array.from(upstream), out.shape);
    out.backward(g);
    for (let k = 0; k < opts.inputs.length; k++) {
        if (opts.inputs[k].grad === false)
            continue;
        const x = values.map((v) => Float64Array.from(v));
        const numeric = new Float64Array(x[k].length);
        for (let i = 0; i < numeric.length; i++) {
            const orig = x[k][i];
            x[k][i] = orig + eps;
            const plus = objective(x);
            x[k][i] = orig - eps;
            const minus = objective(x);
            x[k][i] = orig;
            numeric[i] = (plus - minus) / (2 * eps);
        }
        const gradT = ts[k].grad;
        if (!gradT)
            throw new Error(`${opts.label ?? 'gradCheck'}: input ${k} got no gradient`);
        expectClose(await gradT.data(), numeric, opts.tol, `${opts.label ?? 'gradient'} of input ${k}`);
    }
    for (const t of ts)
        t.dispose();
    out.dispose();
    g.dispose();
}
/** Runs the GPU op under tidy and returns its values. */
export async function gpuValues(fn) {
    const out = tidy(fn);
    const v = await out.data();
    out.dispose();
    return v;
}
//# sourceMappingURL=check.js.map
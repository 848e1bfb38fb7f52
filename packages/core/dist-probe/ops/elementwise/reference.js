import { broadcastShapes, broadcastStrides, stridesOf } from '../shape.js';
/** Plain float64 references for the element-wise ops. */
export const UNARY_REF = {
    neg: (x) => -x,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    relu: (x) => Math.max(x, 0),
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    tanh: Math.tanh,
    square: (x) => x * x,
};
export const BINARY_REF = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    maximum: (a, b) => Math.max(a, b),
};
export function binaryRef(f, a, as, b, bs) {
    const shape = broadcastShapes(as, bs);
    const sa = broadcastStrides(as, shape);
    const sb = broadcastStrides(bs, shape);
    const so = stridesOf(shape);
    const n = shape.reduce((x, y) => x * y, 1);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
        let ia = 0, ib = 0;
        for (let d = 0; d < shape.length; d++) {
            const c = Math.floor(i / so[d]) % shape[d];
            ia += c * sa[d];
            ib += c * sb[d];
        }
        out[i] = f(a[ia], b[ib]);
    }
    return out;
}
//# sourceMappingURL=reference.js.map
import { stridesOf } from '../shape.js';
/** Plain float64 references for the data-movement ops (row-major flat arrays). */
const sizeOf = (s) => s.reduce((a, b) => a * b, 1);
/** Coordinates of flat index i in `shape`. */
function coords(i, shape) {
    const c = new Array(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
        c[d] = i % shape[d];
        i = Math.floor(i / shape[d]);
    }
    return c;
}
const flatIndex = (c, strides) => c.reduce((o, v, d) => o + v * strides[d], 0);
export function permuteRef(x, shape, dims) {
    const outShape = dims.map((d) => shape[d]);
    const xs = stridesOf(shape);
    const out = new Float64Array(sizeOf(outShape));
    for (let i = 0; i < out.length; i++) {
        const c = coords(i, outShape);
        out[i] = x[c.reduce((o, v, k) => o + v * xs[dims[k]], 0)];
    }
    return out;
}
export function sliceRef(x, shape, begin, size) {
    const extent = size.map((s, d) => (s === -1 ? shape[d] - begin[d] : s));
    const xs = stridesOf(shape);
    const out = new Float64Array(sizeOf(extent));
    for (let i = 0; i < out.length; i++)
        out[i] = x[flatIndex(coords(i, extent).map((c, d) => c + begin[d]), xs)];
    return out;
}
export function padRef(x, shape, paddings, value = 0) {
    const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
    const xs = stridesOf(shape);
    const out = new Float64Array(sizeOf(outShape));
    for (let i = 0; i < out.length; i++) {
        const c = coords(i, outShape).map((v, d) => v - paddings[d][0]);
        out[i] = c.every((v, d) => v >= 0 && v < shape[d]) ? x[flatIndex(c, xs)] : value;
    }
    return out;
}
export function concatRef(xs, shapes, axis) {
    const outShape = [...shapes[0]];
    outShape[axis] = shapes.reduce((n, s) => n + s[axis], 0);
    const out = new Float64Array(sizeOf(outShape));
    for (let i = 0; i < out.length; i++) {
        const c = coords(i, outShape);
        let k = 0;
        while (c[axis] >= shapes[k][axis]) {
            c[axis] -= shapes[k][axis];
            k++;
        }
        out[i] = xs[k][flatIndex(c, stridesOf(shapes[k]))];
    }
    return out;
}
//# sourceMappingURL=reference.js.map
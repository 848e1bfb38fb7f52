import { reduceKernel, broadcastToKernel, linearWorkgroups, REDUCE_WG, ELEMENTWISE_WG } from '@squeeze/kernels-wgsl';
import { allocTensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { broadcastStrides, normaliseAxes, sameShape, stridesOf } from '../shape.js';
import { mapBinary, mapUnary } from '../elementwise/elementwise.js';
function reduceRaw(op, x, axes, keepDims, scale = 1) {
    const strides = stridesOf(x.shape);
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => x.shape[i]);
    const y = allocTensor(outShape, op === 'argmax' ? 'i32' : 'f32');
    const nRed = axes.reduce((n, a) => n * x.shape[a], 1);
    if (y.size === 0)
        return y;
    x.runtime.run(reduceKernel, { op }, [x, y], {
        keptShape: kept.map((i) => x.shape[i]), keptStrides: kept.map((i) => strides[i]),
        redShape: axes.map((a) => x.shape[a]), redStrides: axes.map((a) => strides[a]),
        nOut: y.size, nRed, keptRank: kept.length, redRank: axes.length, scale,
    }, linearWorkgroups(y.size, REDUCE_WG));
    return y;
}
/** Sum over `axes` (all when omitted). */
export function sum(x, axes, keepDims = false) {
    const ax = normaliseAxes(axes, x.rank);
    const y = reduceRaw('sum', x, ax, keepDims);
    return record(y, 'sum', [x], [], (g) => [broadcastTo(g, keptShape(x.shape, ax), x.shape)]);
}
/** Mean over `axes` (all when omitted). */
export function mean(x, axes, keepDims = false) {
    const ax = normaliseAxes(axes, x.rank);
    const n = ax.reduce((k, a) => k * x.shape[a], 1);
    const y = reduceRaw('sum', x, ax, keepDims, 1 / n);
    return record(y, 'mean', [x], [], (g) => {
        const b = broadcastTo(g, keptShape(x.shape, ax), x.shape);
        const r = mapUnary('mulScalar', b, 1 / n);
        b.dispose();
        return [r];
    });
}
/** Max over `axes`; the gradient flows to every position equal to the max. */
export function max(x, axes, keepDims = false) {
    const ax = normaliseAxes(axes, x.rank);
    const y = reduceRaw('max', x, ax, keepDims);
    return record(y, 'max', [x], [x, y], (g, [x, y]) => {
        const ks = keptShape(x.shape, ax);
        const yb = broadcastTo(y, ks, x.shape);
        const mask = mapBinary('greaterEqualMask', x, yb);
        yb.dispose();
        const gb = broadcastTo(g, ks, x.shape);
        const r = mapBinary('mul', gb, mask);
        gb.dispose();
        mask.dispose();
        return [r];
    });
}
/** Index of the maximum along `axis` (int32; the first one on ties). Not differentiable. */
export function argmax(x, axis = -1, keepDims = false) {
    return reduceRaw('argmax', x, normaliseAxes(axis, x.rank), keepDims);
}
/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` up to g's shape). */
export function sumTo(g, shape) {
    if (sameShape(g.shape, shape))
        return g.view(g.shape);
    const off = g.rank - shape.length;
    const axes = [];
    for (let i = 0; i < g.rank; i++)
        if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1))
            axes.push(i);
    const r = reduceRaw('sum', g, axes, true);
    const v = r.view(shape);
    r.dispose();
    return v;
}
/** Shape with reduced axes set to 1. */
function keptShape(shape, axes) {
    return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}
/** Broadcasts g (whose shape is `ones`: `shape` with reduced axes 1, possibly squeezed) to `shape`. */
export function broadcastTo(g, ones, shape) {
    const out = allocTensor(shape);
    g.runtime.run(broadcastToKernel, {}, [g, out], {
        outShape: shape, xStrides: broadcastStrides(ones, shape), n: out.size, rank: shape.length,
    }, linearWorkgroups(out.size, ELEMENTWISE_WG));
    return out;
}
//# sourceMappingURL=reduce.js.map
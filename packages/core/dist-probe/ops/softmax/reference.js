/** Plain float64 references for the softmax family. */
/** softmax or log-softmax of a row-major tensor along `axis` (non-negative). */
export function softmaxRef(x, shape, axis, log = false) {
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const len = shape[axis];
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const out = new Float64Array(outer * len * inner);
    for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
            const at = (j) => (o * len + j) * inner + i;
            let m = -Infinity;
            for (let j = 0; j < len; j++)
                m = Math.max(m, x[at(j)]);
            let s = 0;
            for (let j = 0; j < len; j++)
                s += Math.exp(x[at(j)] - m);
            for (let j = 0; j < len; j++)
                out[at(j)] = log ? x[at(j)] - m - Math.log(s) : Math.exp(x[at(j)] - m) / s;
        }
    }
    return out;
}
/** Cross-entropy rows (lse − x[label])·mask, reduced as `softmaxCrossEntropy` does. */
export function crossEntropyRef(logits, N, C, labels, mask, reduction) {
    const logp = softmaxRef(logits, [N, C], 1, true);
    const rows = new Float64Array(N);
    let count = 0;
    for (let n = 0; n < N; n++) {
        const w = mask ? mask[n] : 1;
        count += w;
        rows[n] = w === 0 ? 0 : -logp[n * C + labels[n]] * w;
    }
    if (reduction === 'none')
        return rows;
    const total = rows.reduce((a, b) => a + b, 0);
    return Float64Array.of(reduction === 'sum' ? total : count > 0 ? total / count : 0);
}
//# sourceMappingURL=reference.js.map
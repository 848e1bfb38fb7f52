/**
 * Plain float64 transcriptions of PyTorch's optimizer algorithms (torch/optim/sgd.py, adam.py,
 * adamw.py; single-tensor path, amsgrad and maximize off) for testing the fused GPU kernels.
 * Each function updates one parameter in place for one step.
 */
export function sgdStepRef(p, grad, state, o) {
    const d = Float64Array.from(grad, (g, i) => g + o.weightDecay * p[i]);
    if (o.momentum !== 0) {
        if (!state.momentumBuffer)
            state.momentumBuffer = Float64Array.from(d);
        else
            for (let i = 0; i < d.length; i++)
                state.momentumBuffer[i] = o.momentum * state.momentumBuffer[i] + (1 - o.dampening) * d[i];
        const buf = state.momentumBuffer;
        for (let i = 0; i < d.length; i++)
            d[i] = o.nesterov ? d[i] + o.momentum * buf[i] : buf[i];
    }
    for (let i = 0; i < p.length; i++)
        p[i] = p[i] - o.lr * d[i];
}
export function adamStepRef(p, grad, state, o) {
    const [b1, b2] = o.betas;
    state.step++;
    const g = Float64Array.from(grad);
    if (o.decoupled)
        for (let i = 0; i < p.length; i++)
            p[i] = p[i] * (1 - o.lr * o.weightDecay);
    else if (o.weightDecay !== 0)
        for (let i = 0; i < p.length; i++)
            g[i] = g[i] + o.weightDecay * p[i];
    const bc1 = 1 - b1 ** state.step;
    const bc2 = 1 - b2 ** state.step;
    const stepSize = o.lr / bc1;
    for (let i = 0; i < p.length; i++) {
        state.expAvg[i] = state.expAvg[i] + (g[i] - state.expAvg[i]) * (1 - b1); // lerp_
        state.expAvgSq[i] = state.expAvgSq[i] * b2 + (1 - b2) * g[i] * g[i];
        const denom = Math.sqrt(state.expAvgSq[i]) / Math.sqrt(bc2) + o.eps;
        p[i] = p[i] - stepSize * state.expAvg[i] / denom;
    }
}
//# sourceMappingURL=reference.js.map
import { bnPartialSumsKernel, bnChannelParamsKernel, bnApplyKernel, bnChannelGradsKernel, bnDxKernel, dxReadsX, bnApplyInvocations, linearWorkgroups, BN_WG, BN_REDUCE_CHUNK, BN_APPLY_CHUNK, } from '@squeeze/kernels-wgsl';
import { allocTensor } from '../../tensor.js';
import { record } from '../../autograd.js';
function channelView(shape, dataFormat) {
    if (shape.length < 2)
        throw new Error(`batchNorm needs an input of rank 2 or more, got [${shape}]`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (dataFormat === 'NHWC' || shape.length === 2) {
        const c = shape[shape.length - 1];
        return { layout: 'channelsLast', vec: c % 4 === 0, c, count: size / c, n: size / c, s: 1 };
    }
    const [n, c] = [shape[0], shape[1]];
    const s = size / (n * c);
    return { layout: 'channelsFirst', vec: s % 4 === 0, c, count: n * s, n, s };
}
function checkChannelTensor(t, c, what) {
    if (t && (t.rank !== 1 || t.shape[0] !== c))
        throw new Error(`batchNorm ${what} must have shape [${c}], got [${t.shape}]`);
}
/** Vectors per channel and partials per channel of the partial-sum pass. */
function reduceGeometry(v) {
    if (v.layout === 'channelsFirst') {
        const sv = v.vec ? v.s / 4 : v.s;
        const perChannel = v.n * sv;
        const parts = Math.ceil(perChannel / BN_REDUCE_CHUNK);
        return { parts, invocations: v.c * parts, uniforms: { c: v.c, parts, perChannel, sv, planeStride: v.c * sv } };
    }
    const cv = v.vec ? v.c / 4 : v.c;
    const parts = Math.ceil(v.count / BN_REDUCE_CHUNK);
    return { parts, invocations: cv * parts, uniforms: { c: v.c, cv, parts, rows: v.count } };
}
/** One pass over x (and g): per-channel partial sums [2, parts, C]. */
function partialSums(v, mode, x, g, params) {
    const geo = reduceGeometry(v);
    const partials = allocTensor([2, geo.parts, v.c]);
    const bindings = mode === 'stats' ? [x, partials] : [x, g, params, partials];
    x.runtime.run(bnPartialSumsKernel, { layout: v.layout, vec: v.vec, mode }, bindings, geo.uniforms, linearWorkgroups(geo.invocations, BN_WG));
    return { partials, parts: geo.parts };
}
/** Uniforms and invocations of the apply and dx passes. */
function elementwiseGeometry(v, size) {
    const vectors = v.vec ? size / 4 : size;
    if (v.layout === 'channelsFirst') {
        return { invocations: bnApplyInvocations(v.layout, vectors, 1), uniforms: { n: vectors, c: v.c, sv: v.vec ? v.s / 4 : v.s } };
    }
    const cv = v.vec ? v.c / 4 : v.c;
    return {
        invocations: bnApplyInvocations(v.layout, vectors, cv),
        uniforms: { rows: v.count, rowBlocks: Math.ceil(v.count / BN_APPLY_CHUNK), c: v.c, cv },
    };
}
function batchNormImpl(x, opts, relu) {
    const v = channelView(x.shape, opts.dataFormat ?? 'NCHW');
    const weight = opts.weight ?? null;
    const bias = opts.bias ?? null;
    const { runningMean, runningVar, training } = opts;
    const momentum = opts.momentum ?? 0.1;
    const eps = opts.eps ?? 1e-5;
    checkChannelTensor(weight, v.c, 'weight');
    checkChannelTensor(bias, v.c, 'bias');
    checkChannelTensor(runningMean, v.c, 'runningMean');
    checkChannelTensor(runningVar, v.c, 'runningVar');
    if (training && v.count < 2)
        throw new Error(`batchNorm training needs more than one value per channel, got input [${x.shape}]`);
    const rt = x.runtime;
    // Channel parameters [4, C]: mean, 1/std, scale, shift.
    const params = allocTensor([4, v.c]);
    const paramsKernel = { training, hasWeight: !!weight, hasBias: !!bias };
    const affine = [...(weight ? [weight] : []), ...(bias ? [bias] : [])];
    const channelWorkgroups = linearWorkgroups(v.c, BN_WG);
    if (training) {
        const { partials, parts } = partialSums(v, 'stats', x);
        rt.run(bnChannelParamsKernel, paramsKernel, [x, partials, runningMean, runningVar, ...affine, params], {
            c: v.c, eps, parts, channelStride: v.layout === 'channelsFirst' ? v.s : 1, count: v.count, momentum,
            unbias: v.count / (v.count - 1),
        }, channelWorkgroups);
        partials.dispose();
    }
    else {
        rt.run(bnChannelParamsKernel, paramsKernel, [runningMean, runningVar, ...affine, params], { c: v.c, eps }, channelWorkgroups);
    }
    const y = allocTensor(x.shape);
    const ew = elementwiseGeometry(v, x.size);
    rt.run(bnApplyKernel, { layout: v.layout, vec: v.vec, relu }, [x, params, y], ew.uniforms, linearWorkgroups(ew.invocations, BN_WG));
    const inputs = [x, ...affine];
    const weightIndex = weight ? 1 : -1;
    const biasIndex = bias ? 1 + (weight ? 1 : 0) : -1;
    record(y, relu ? 'batchNormRelu' : 'batchNorm', inputs, [x, params], (g, [xs, ps], needs) => {
        const needX = needs[0];
        const weightGrad = weightIndex >= 0 && needs[weightIndex];
        const biasGrad = biasIndex >= 0 && needs[biasIndex];
        const grads = inputs.map(() => null);
        // Training dx needs the batch sums too; eval dx is just scale·g'.
        const coefs = training && needX;
        let coefTensor = null;
        if (coefs || weightGrad || biasGrad) {
            const { partials, parts } = partialSums(v, relu ? 'gradRelu' : 'grad', xs, g, ps);
            coefTensor = coefs ? allocTensor([3, v.c]) : null;
            const dweight = weightGrad ? allocTensor([v.c]) : null;
            const dbias = biasGrad ? allocTensor([v.c]) : null;
            const outs = [coefTensor, dweight, dbias].filter((t) => t !== null);
            rt.run(bnChannelGradsKernel, { training, coefs, weightGrad, biasGrad }, [partials, ps, ...outs], { c: v.c, parts, count: v.count }, channelWorkgroups);
            partials.dispose();
            if (dweight)
                grads[weightIndex] = dweight;
            if (dbias)
                grads[biasIndex] = dbias;
        }
        if (needX) {
            const dx = allocTensor(xs.shape);
            const p = { layout: v.layout, vec: v.vec, relu, training };
            const bindings = [g, ...(dxReadsX(p) ? [xs] : []), ps, ...(coefTensor ? [coefTensor] : []), dx];
            rt.run(bnDxKernel, p, bindings, ew.uniforms, linearWorkgroups(ew.invocations, BN_WG));
            grads[0] = dx;
        }
        coefTensor?.dispose();
        return grads;
    });
    params.dispose();
    return y;
}
/**
 * Batch normalisation over the channel axis (1 for NCHW, last for NHWC, 1 for [N, C]). Training
 * normalises with the batch mean and biased variance and updates the running stats in place
 * (unbiased variance, PyTorch momentum); eval uses the running stats. Gradients flow to x,
 * weight and bias in both modes.
 */
export function batchNorm(x, opts) {
    return batchNormImpl(x, opts, false);
}
/**
 * relu(batchNorm(x, opts)) in one pass: the forward applies the ReLU in the normalisation kernel
 * and the backward folds the ReLU mask (recomputed from x) into the batch-norm gradient.
 */
export function batchNormRelu(x, opts) {
    return batchNormImpl(x, opts, true);
}
//# sourceMappingURL=batchnorm.js.map
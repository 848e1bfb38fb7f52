import { batchNorm, batchNormRelu } from './batchnorm.js';
import { batchNormRef } from './reference.js';
import { nchwToNhwc, nhwcToNchw } from '../pool/reference.js';
import { relu } from '../elementwise/elementwise.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, randomValues } from '../../testing/check.js';
const size = (s) => s.reduce((a, b) => a * b, 1);
const toLayout = (s, f) => (f === 'NCHW' || s.length === 2 ? s : [s[0], s[2], s[3], s[1]]);
const f32 = (v) => Float32Array.from(v);
/**
 * NCHW shapes (rank 2 = [N, C]): batch 1, 1×1 spatial, odd sizes, C not divisible by 4, vec4 in
 * one layout and scalar in the other, and channels long enough for several partial sums that
 * cross image boundaries.
 */
const shapes = [
    [1, 3, 5, 5], [4, 3, 1, 1], [3, 5, 7, 7], [2, 6, 4, 4], [2, 8, 3, 3], [4, 5, 12, 12], [4, 8, 12, 12], [5, 7], [16, 12], [70, 5],
];
function makeCase(c, n, seed, affine) {
    return {
        x: randomValues(n, seed, -2, 3),
        weight: affine.weight ? randomValues(c, seed + 1, 0.5, 1.5).map((v, i) => (i % 3 === 2 ? -v : v)) : null,
        bias: affine.bias ? randomValues(c, seed + 2, -1, 1) : null,
        runningMean: randomValues(c, seed + 3, -0.5, 0.5),
        runningVar: randomValues(c, seed + 4, 0.5, 2),
    };
}
const affineCombos = [{ weight: true, bias: true }, { weight: false, bias: false }, { weight: true, bias: false }, { weight: false, bias: true }];
/** Runs the GPU op (no grad) and returns y and the running stats after the call. */
async function runGpu(cs, shape, o, fused) {
    const x = tensor(f32(cs.x), shape);
    const rm = tensor(f32(cs.runningMean));
    const rv = tensor(f32(cs.runningVar));
    const w = cs.weight ? tensor(f32(cs.weight)) : null;
    const b = cs.bias ? tensor(f32(cs.bias)) : null;
    const y = (fused ? batchNormRelu : batchNorm)(x, { ...o, weight: w, bias: b, runningMean: rm, runningVar: rv });
    const out = { y: await y.data(), runningMean: await rm.data(), runningVar: await rv.data() };
    for (const t of [x, rm, rv, w, b, y])
        t?.dispose();
    return out;
}
function refOptions(cs, o) {
    return { ...o, weight: cs.weight, bias: cs.bias, runningMean: cs.runningMean, runningVar: cs.runningVar };
}
/** gradCheck of batchNorm(Relu) w.r.t. x, weight and bias (those in `grads`). */
async function checkGradients(shape, dataFormat, training, fused, seed, grads = { x: true, weight: true, bias: true }) {
    const c = dataFormat === 'NHWC' || shape.length === 2 ? shape[shape.length - 1] : shape[1];
    const o = { training, momentum: 0.1, eps: 1e-5, dataFormat };
    const label = `${fused ? 'batchNormRelu' : 'batchNorm'} ${training ? 'training' : 'eval'} [${shape}] ${dataFormat}`;
    let cs = makeCase(c, size(shape), seed, { weight: true, bias: true });
    // With the ReLU, take the first seed from `seed` whose pre-activations all keep clear of the
    // kink, so the finite differences (step 1e-3) stay on one side of it.
    const kinkGap = (k) => Math.min(...batchNormRef(k.x, shape, refOptions(k, o)).y.map(Math.abs));
    while (fused && kinkGap(cs) < 0.02)
        cs = makeCase(c, size(shape), ++seed, { weight: true, bias: true });
    const stats = [];
    await gradCheck({
        inputs: [
            { shape, values: cs.x, grad: grads.x }, { shape: [c], values: cs.weight, grad: grads.weight }, { shape: [c], values: cs.bias, grad: grads.bias },
        ],
        gpu: ([x, w, b]) => {
            const rm = tensor(f32(cs.runningMean));
            const rv = tensor(f32(cs.runningVar));
            stats.push(rm, rv);
            return (fused ? batchNormRelu : batchNorm)(x, { ...o, weight: w, bias: b, runningMean: rm, runningVar: rv });
        },
        ref: ([x, w, b]) => batchNormRef(x, shape, { ...refOptions(cs, o), weight: w, bias: b, relu: fused }).y,
        tol: { atol: 3e-3, rtol: 3e-3 },
        label,
    });
    for (const t of stats)
        t.dispose();
}
describe('batch norm', () => {
    for (const training of [true, false]) {
        it(`${training ? 'training' : 'eval'} forward (and fused ReLU) matches the float64 reference in both layouts${training ? ', running stats included' : ''}`, async () => {
            for (const [k, nchw] of shapes.entries()) {
                for (const dataFormat of (nchw.length === 2 ? ['NCHW'] : ['NCHW', 'NHWC'])) {
                    const shape = toLayout(nchw, dataFormat);
                    for (const [j, fused] of [false, true].entries()) {
                        const affine = affineCombos[(k + 2 * j) % affineCombos.length];
                        const cs = makeCase(nchw[1], size(shape), 10 * k + j, affine);
                        const o = { training, momentum: k % 2 ? 0.3 : 0.1, eps: k % 3 ? 1e-5 : 1e-3, dataFormat };
                        const got = await runGpu(cs, shape, o, fused);
                        const want = batchNormRef(cs.x, shape, refOptions(cs, { ...o, relu: fused }));
                        const label = `${fused ? 'batchNormRelu' : 'batchNorm'} [${shape}] ${dataFormat} w:${affine.weight} b:${affine.bias}`;
                        expectClose(got.y, want.y, { atol: 1e-4, rtol: 1e-4 }, label);
                        expectClose(got.runningMean, want.runningMean, { atol: 1e-5, rtol: 1e-5 }, `${label} running mean`);
                        expectClose(got.runningVar, want.runningVar, { atol: 1e-5, rtol: 1e-5 }, `${label} running var`);
                    }
                }
            }
        });
    }
    it('keeps the variance accurate when the mean is large next to the spread', async () => {
        for (const dataFormat of ['NCHW', 'NHWC']) {
            const shape = toLayout([8, 4, 8, 8], dataFormat);
            const cs = makeCase(4, size(shape), 3, { weight: true, bias: true });
            cs.x = cs.x.map((v) => 200 + 0.1 * v);
            const o = { training: true, momentum: 0.1, eps: 1e-5, dataFormat };
            const got = await runGpu(cs, shape, o, false);
            const want = batchNormRef(cs.x, shape, refOptions(cs, o));
            expectClose(got.y, want.y, { atol: 2e-3, rtol: 1e-3 }, `large mean ${dataFormat}`);
            expectClose(got.runningVar, want.runningVar, { atol: 1e-5, rtol: 1e-3 }, `large mean running var ${dataFormat}`);
        }
    });
    it('training gradients (x, weight, bias) match finite differences in both layouts', async () => {
        for (const [k, [nchw, dataFormat]] of [[[2, 3, 3, 3], 'NCHW'], [[2, 3, 3, 3], 'NHWC'], [[3, 2, 1, 1], 'NHWC'], [[2, 6, 4, 4], 'NCHW'], [[2, 8, 3, 3], 'NHWC'], [[6, 5], 'NCHW']].entries()) {
            await checkGradients(toLayout(nchw, dataFormat), dataFormat, true, false, 100 + k);
        }
    });
    it('eval gradients (x, weight, bias) match finite differences', async () => {
        for (const [k, [nchw, dataFormat]] of [[[2, 3, 3, 3], 'NCHW'], [[2, 8, 3, 3], 'NHWC'], [[4, 6], 'NCHW']].entries()) {
            await checkGradients(toLayout(nchw, dataFormat), dataFormat, false, false, 200 + k);
        }
    });
    it('gradients when only some inputs need one', async () => {
        await checkGradients([2, 3, 3, 3], 'NCHW', true, false, 300, { x: false, weight: true, bias: true });
        await checkGradients([2, 3, 3, 8], 'NHWC', true, false, 301, { x: true, weight: false, bias: false });
        await checkGradients([2, 4, 2, 2], 'NCHW', false, false, 302, { x: false, weight: false, bias: true });
        await checkGradients([2, 4, 2, 2], 'NCHW', false, false, 303, { x: true, weight: false, bias: false });
    });
    it('batchNormRelu gradients match finite differences (training and eval)', async () => {
        await checkGradients([2, 3, 3, 3], 'NCHW', true, true, 402);
        await checkGradients([2, 2, 2, 8], 'NHWC', true, true, 400);
        await checkGradients([2, 8, 2, 2], 'NCHW', false, true, 401);
    });
    it('batchNormRelu equals batchNorm followed by relu, gradients included', async () => {
        for (const [k, [shape, dataFormat, training]] of [[[2, 6, 4, 4], 'NCHW', true], [[2, 3, 5, 5], 'NCHW', false], [[2, 4, 4, 8], 'NHWC', true], [[2, 3, 3, 5], 'NHWC', true]].entries()) {
            const c = dataFormat === 'NHWC' ? shape[3] : shape[1];
            const cs = makeCase(c, size(shape), 500 + k, { weight: true, bias: true });
            const up = randomValues(size(shape), 600 + k);
            const run = async (fused) => {
                const x = tensor(f32(cs.x), shape).requireGrad();
                const w = tensor(f32(cs.weight)).requireGrad();
                const b = tensor(f32(cs.bias)).requireGrad();
                const rm = tensor(f32(cs.runningMean));
                const rv = tensor(f32(cs.runningVar));
                const o = { weight: w, bias: b, runningMean: rm, runningVar: rv, training, dataFormat };
                const z = fused ? null : batchNorm(x, o);
                const y = z ? relu(z) : batchNormRelu(x, o);
                y.backward(tensor(f32(up), shape));
                const out = [await y.data(), await x.grad.data(), await w.grad.data(), await b.grad.data(), await rm.data(), await rv.data()];
                for (const t of [x, w, b, rm, rv, y, z])
                    t?.dispose();
                return out;
            };
            const fused = await run(true);
            const composed = await run(false);
            ['y', 'dx', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
                expectClose(fused[i], composed[i], { atol: 1e-5, rtol: 1e-5 }, `fused vs composed [${shape}] ${dataFormat} ${name}`);
            });
        }
    });
    it('agrees between NCHW and NHWC after transposition (output, running stats, gradients)', async () => {
        const nchw = [3, 8, 5, 4];
        const cs = makeCase(8, size(nchw), 700, { weight: true, bias: true });
        const up = randomValues(size(nchw), 701);
        const run = async (dataFormat) => {
            const nhwc = dataFormat === 'NHWC';
            const x = tensor(f32(nhwc ? nchwToNhwc(cs.x, nchw) : cs.x), toLayout(nchw, dataFormat)).requireGrad();
            const w = tensor(f32(cs.weight)).requireGrad();
            const b = tensor(f32(cs.bias)).requireGrad();
            const rm = tensor(f32(cs.runningMean));
            const rv = tensor(f32(cs.runningVar));
            const y = batchNormRelu(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: true, dataFormat });
            y.backward(tensor(f32(nhwc ? nchwToNhwc(up, nchw) : up), y.shape));
            const back = (v) => (nhwc ? nhwcToNchw(v, nchw) : v);
            const out = [back(await y.data()), back(await x.grad.data()), await w.grad.data(), await b.grad.data(), await rm.data(), await rv.data()];
            for (const t of [x, w, b, rm, rv, y])
                t.dispose();
            return out;
        };
        const a = await run('NCHW');
        const b = await run('NHWC');
        ['y', 'dx', 'dweight', 'dbias', 'running mean', 'running var'].forEach((name, i) => {
            expectClose(b[i], a[i], { atol: 1e-5, rtol: 1e-4 }, `NHWC vs NCHW ${name}`);
        });
    });
    it('rejects training with one value per channel and mis-shaped parameters', () => {
        const x = tensor(new Float32Array(3), [1, 3, 1, 1]);
        const rm = tensor(new Float32Array(3));
        const rv = tensor(new Float32Array(3).fill(1));
        const message = (f) => { try {
            f().dispose();
            return '';
        }
        catch (e) {
            return e.message;
        } };
        const one = message(() => batchNorm(x, { runningMean: rm, runningVar: rv, training: true }));
        if (!one.includes('more than one value per channel'))
            throw new Error(`unexpected error: '${one}'`);
        const w = tensor(new Float32Array(4));
        const bad = message(() => batchNorm(x, { weight: w, runningMean: rm, runningVar: rv, training: false }));
        if (!bad.includes('[3]') || !bad.includes('[4]'))
            throw new Error(`unexpected error: '${bad}'`);
        for (const t of [x, rm, rv, w])
            t.dispose();
    });
});
//# sourceMappingURL=batchnorm.test.js.map
// Through the package entry point, which also wires autograd's default ops (backward of a scalar).
import { Sequential, Linear, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Dropout, Flatten, mseLoss, crossEntropyLoss, manualSeed, tensor, sum, mul, tidy, noGrad, } from '../index.js';
import { expectClose, randomValues } from '../testing/check.js';
const tol = { atol: 1e-5, rtol: 1e-5 };
const f32 = (v) => Float32Array.from(v);
async function values(t) { return Float64Array.from(await t.data()); }
describe('nn layers', () => {
    it('Linear computes x·Wᵀ + b (PyTorch layout) and backpropagates to x, W and b', async () => {
        const [n, inF, outF] = [3, 5, 4];
        const layer = new Linear(inF, outF);
        const xv = randomValues(n * inF, 1);
        const up = randomValues(n * outF, 2);
        const x = tensor(f32(xv), [n, inF]).requireGrad();
        const upstream = tensor(f32(up), [n, outF]);
        // Scalar Σ y·upstream: its gradients are the upstream gradient pulled back through the layer.
        const y = tidy(() => {
            const out = layer.forward(x);
            sum(mul(out, upstream)).backward();
            return out;
        });
        const w = await values(layer.weight);
        const b = await values(layer.bias);
        const expectY = new Float64Array(n * outF);
        const dx = new Float64Array(n * inF);
        const dw = new Float64Array(outF * inF);
        const db = new Float64Array(outF);
        for (let r = 0; r < n; r++) {
            for (let o = 0; o < outF; o++) {
                let acc = b[o];
                for (let i = 0; i < inF; i++) {
                    acc += xv[r * inF + i] * w[o * inF + i];
                    dx[r * inF + i] += up[r * outF + o] * w[o * inF + i];
                    dw[o * inF + i] += up[r * outF + o] * xv[r * inF + i];
                }
                expectY[r * outF + o] = acc;
                db[o] += up[r * outF + o];
            }
        }
        expectClose(await y.data(), expectY, tol, 'Linear output');
        expectClose(await x.grad.data(), dx, tol, 'Linear dx');
        expectClose(await layer.weight.grad.data(), dw, tol, 'Linear dW');
        expectClose(await layer.bias.grad.data(), db, tol, 'Linear db');
        // PyTorch's default init: |W| and |b| below 1/√inFeatures.
        if ([...w, ...b].some((v) => Math.abs(v) > 1 / Math.sqrt(inF)))
            throw new Error('Linear init exceeds 1/√fanIn');
        for (const t of [x, upstream, y])
            t.dispose();
        layer.dispose();
    });
    it('a CNN Sequential names its state like PyTorch and produces the expected shapes', () => {
        const model = new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2), new Conv2d(8, 4, [1, 3], { bias: false, init: 'kaimingUniform' }), new BatchNorm2d(4, { affine: false }), new AvgPool2d(2), new Flatten(), new Dropout(0.5), new Linear(4 * 2 * 2, 10, { init: 'glorotUniform' }));
        const names = Object.keys(model.stateDict()).join(' ');
        const expected = '0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var 4.weight 5.running_mean 5.running_var 9.weight 9.bias';
        if (names !== expected)
            throw new Error(`state names: ${names}`);
        const shapes = Object.entries(model.stateDict()).map(([k, t]) => `${k}:${t.shape.join('x')}`).join(' ');
        if (!shapes.includes('0.weight:8x3x3x3') || !shapes.includes('4.weight:4x8x1x3') || !shapes.includes('9.weight:10x16')) {
            throw new Error(`state shapes: ${shapes}`);
        }
        // [2,3,8,12] → conv 8×8×12 → pool 8×4×6 → conv 1×3 4×4×4 → pool 4×2×2 → 16 features
        // noGrad: without a backward pass the graph would hold saved tensors until garbage collection.
        const out = noGrad(() => tidy(() => model.forward(tensor(f32(randomValues(2 * 3 * 8 * 12, 3)), [2, 3, 8, 12]))));
        if (out.shape.join() !== '2,10')
            throw new Error(`output shape [${out.shape}]`);
        out.dispose();
        model.dispose();
    });
    it('BatchNorm2d updates running statistics in training and uses them in eval', async () => {
        const [n, c, h, w] = [4, 3, 2, 2];
        const xv = randomValues(n * c * h * w, 4, 0, 4);
        const x = tensor(f32(xv), [n, c, h, w]);
        const bn = new BatchNorm2d(c, { momentum: 0.25, eps: 1e-3 });
        noGrad(() => tidy(() => bn.forward(x)));
        const count = n * h * w;
        const mean = new Float64Array(c);
        const unbiasedVar = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) {
            const vs = [];
            for (let i = 0; i < n; i++)
                for (let s = 0; s < h * w; s++)
                    vs.push(xv[(i * c + ch) * h * w + s]);
            mean[ch] = vs.reduce((a, b) => a + b, 0) / count;
            unbiasedVar[ch] = vs.reduce((a, v) => a + (v - mean[ch]) ** 2, 0) / (count - 1);
        }
        const runningMean = mean.map((m) => 0.25 * m);
        const runningVar = unbiasedVar.map((v) => 0.75 + 0.25 * v);
        expectClose(await bn.runningMean.data(), runningMean, tol, 'running_mean');
        expectClose(await bn.runningVar.data(), runningVar, tol, 'running_var');
        bn.eval();
        const y = noGrad(() => tidy(() => bn.forward(x)));
        const expected = xv.map((v, i) => {
            const ch = Math.floor(i / (h * w)) % c;
            return (v - runningMean[ch]) / Math.sqrt(runningVar[ch] + 1e-3);
        });
        expectClose(await y.data(), expected, { atol: 1e-4, rtol: 1e-4 }, 'eval output');
        for (const t of [x, y])
            t.dispose();
        bn.dispose();
    });
    it('Dropout passes inputs through in eval and draws a fresh mask on every training call', async () => {
        manualSeed(5);
        const drop = new Dropout(0.5);
        const x = tensor(new Float32Array(400).fill(1), [400]);
        const a = await values(tidy(() => drop.forward(x)));
        const b = await values(tidy(() => drop.forward(x)));
        const zeros = a.filter((v) => v === 0).length;
        if (zeros < 120 || zeros > 280)
            throw new Error(`dropout p=0.5 zeroed ${zeros} of 400`);
        if (a.some((v) => v !== 0 && Math.abs(v - 2) > 1e-6))
            throw new Error('kept values must be scaled by 1/(1 − p)');
        if (a.every((v, i) => v === b[i]))
            throw new Error('two training calls used the same mask');
        drop.eval();
        expectClose(await values(tidy(() => drop.forward(x))), new Float64Array(400).fill(1), { atol: 0, rtol: 0 }, 'eval dropout');
        x.dispose();
    });
    it('mseLoss and crossEntropyLoss match float64 references', async () => {
        const p = randomValues(12, 6);
        const t = randomValues(12, 7);
        const pt = tensor(f32(p), [3, 4]);
        const tt = tensor(f32(t), [3, 4]);
        const sq = p.map((v, i) => (v - t[i]) ** 2);
        expectClose(await values(tidy(() => mseLoss(pt, tt))), [sq.reduce((a, b) => a + b, 0) / 12], tol, 'mse mean');
        expectClose(await values(tidy(() => mseLoss(pt, tt, { reduction: 'sum' }))), [sq.reduce((a, b) => a + b, 0)], tol, 'mse sum');
        expectClose(await values(tidy(() => mseLoss(pt, tt, { reduction: 'none' }))), sq, tol, 'mse none');
        const labels = tensor(Int32Array.from([2, 0, 3]), [3], 'i32');
        const mask = tensor([1, 0, 1]);
        const rowLoss = (r, label) => {
            const row = p.slice(r * 4, r * 4 + 4);
            const m = Math.max(...row);
            return Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m - row[label];
        };
        expectClose(await values(tidy(() => crossEntropyLoss(pt, labels, { mask }))), [(rowLoss(0, 2) + rowLoss(2, 3)) / 2], tol, 'masked cross-entropy');
        for (const x of [pt, tt, labels, mask])
            x.dispose();
    });
});
//# sourceMappingURL=layers.test.js.map
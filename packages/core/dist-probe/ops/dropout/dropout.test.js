import { dropout } from './dropout.js';
import { dropoutRef } from './reference.js';
import { tensor, ones } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
const TOL = { atol: 1e-6, rtol: 1e-6 };
describe('dropout', () => {
    it('is the identity (a view) in evaluation and for p = 0', async () => {
        const x = tensor([1, 2, 3], [3]);
        for (const y of [dropout(x, 0.5, { training: false }), dropout(x, 0, { training: true })]) {
            if (y.storage !== x.storage)
                throw new Error('identity dropout copied its input');
            y.dispose();
        }
        x.dispose();
        await gradCheck({
            inputs: [{ shape: [2, 3], values: randomValues(6, 1) }], gpu: ([t]) => dropout(t, 0.5, { training: false }), ref: ([v]) => v, tol: TOL, label: 'eval dropout',
        });
    });
    it('matches the seeded float64 reference exactly, odd sizes included, with its gradient', async () => {
        for (const [k, shape] of [[3, 5], [1], [4, 16], [2, 3, 7, 7]].entries()) {
            const n = shape.reduce((a, b) => a * b, 1);
            const x = randomValues(n, 20 + k);
            for (const p of [0.1, 0.5, 0.9]) {
                const got = await gpuValues(() => dropout(tensor(Float32Array.from(x), shape), p, { training: true, seed: 1234 + k }));
                expectClose(got, dropoutRef(x, p, 1234 + k), TOL, `dropout [${shape}] p=${p}`);
            }
        }
        const x = randomValues(30, 3);
        await gradCheck({
            inputs: [{ shape: [5, 6], values: x }], gpu: ([t]) => dropout(t, 0.4, { training: true, seed: 7 }), ref: ([v]) => dropoutRef(v, 0.4, 7), tol: { atol: 1e-3, rtol: 1e-3 }, label: 'dropout',
        });
    });
    it('drops a fraction p, keeps the mean, is deterministic per seed and differs across seeds', async () => {
        const n = 1 << 17;
        const p = 0.3;
        const run = async (seed) => (await gpuValues(() => dropout(ones([n]), p, { training: true, seed })));
        const a = await run(42);
        const zeros = a.reduce((z, v) => z + (v === 0 ? 1 : 0), 0);
        const sigma = Math.sqrt(p * (1 - p) / n);
        if (Math.abs(zeros / n - p) > 5 * sigma)
            throw new Error(`dropped ${zeros / n}, expected ${p} ± ${5 * sigma}`);
        const mean = a.reduce((s, v) => s + v, 0) / n;
        if (Math.abs(mean - 1) > 5 * sigma / (1 - p))
            throw new Error(`mean ${mean}, expected 1`);
        // neighbours must not share decisions: P(both dropped) ≈ p²
        let both = 0;
        for (let i = 0; i + 1 < n; i += 2)
            both += a[i] === 0 && a[i + 1] === 0 ? 1 : 0;
        if (Math.abs(both / (n / 2) - p * p) > 0.01)
            throw new Error(`neighbouring elements dropped together ${both / (n / 2)}, expected ${p * p}`);
        expectClose(await run(42), a, { atol: 0, rtol: 0 }, 'same seed');
        const b = await run(43);
        const agree = a.reduce((c, v, i) => c + ((v === 0) === (b[i] === 0) ? 1 : 0), 0) / n;
        const expected = p * p + (1 - p) * (1 - p); // independent masks agree this often
        if (Math.abs(agree - expected) > 0.01)
            throw new Error(`masks of seeds 42 and 43 agree on ${agree}, expected ${expected}`);
        const all = await gpuValues(() => dropout(ones([10]), 1, { training: true, seed: 1 }));
        expectClose(all, new Float32Array(10), { atol: 0, rtol: 0 }, 'p = 1 drops everything');
    });
    it('rejects p outside [0, 1]', () => {
        const x = tensor([1, 2]);
        for (const p of [-0.1, 1.5, NaN]) {
            let msg = '';
            try {
                dropout(x, p, { training: true });
            }
            catch (e) {
                msg = e.message;
            }
            if (!msg.includes('[0, 1]'))
                throw new Error(`p=${p}: unexpected '${msg}'`);
        }
        x.dispose();
    });
});
//# sourceMappingURL=dropout.test.js.map
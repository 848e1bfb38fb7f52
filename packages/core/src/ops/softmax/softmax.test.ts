import { softmax, logSoftmax, softmaxCrossEntropy } from './softmax.js';
import { softmaxRef, crossEntropyRef } from './reference.js';
import { tensor } from '../creation/creation.js';
import { Random } from '../../random.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };
const GRAD_TOL = { atol: 2e-3, rtol: 2e-3 };
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('softmax family', () => {
  const cases: Array<[number[], number]> = [[[5], 0], [[3, 4], 1], [[3, 4], 0], [[2, 3, 4, 5], 1], [[1, 1], 1], [[2, 7, 3], 2]];
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    const op = log ? logSoftmax : softmax;
    it(`${name} matches the reference along any axis, stays finite for huge logits, and has gradients`, async () => {
      for (const [k, [shape, axis]] of cases.entries()) {
        const x = randomValues(sizeOf(shape), 80 + k, -3, 3);
        expectClose(await gpuValues(() => op(tensor(Float32Array.from(x), shape), axis)), softmaxRef(x, shape, axis, log), TOL, `${name} [${shape}] axis ${axis}`);
        await gradCheck({
          inputs: [{ shape, values: x }], gpu: ([t]) => op(t!, axis), ref: ([v]) => softmaxRef(v!, shape, axis, log), tol: GRAD_TOL, label: `${name} [${shape}] axis ${axis}`,
        });
      }
      // negative axis = last; logits around ±1000 would overflow a naive exp
      const big = randomValues(12, 5, -1000, 1000);
      expectClose(await gpuValues(() => op(tensor(Float32Array.from(big), [3, 4]))), softmaxRef(big, [3, 4], 1, log), { atol: 1e-4, rtol: 1e-5 }, `${name} huge logits`);
    });
  }

  describe('softmaxCrossEntropy', () => {
    const N = 7;
    const C = 10;
    const rng = new Random(3);
    const labels = Int32Array.from({ length: N }, () => rng.int(C));
    const mask = Float32Array.from([1, 1, 0, 1, 1, 0, 1]);
    // padded rows carry a label the model does not have: they must be ignored
    const labelsWithPadding = labels.map((l, i) => (mask[i] ? l : -1));
    const logits = randomValues(N * C, 11, -4, 4);

    const variants = [
      { masked: false, reduction: 'mean' }, { masked: false, reduction: 'sum' }, { masked: false, reduction: 'none' },
      { masked: true, reduction: 'mean' }, { masked: true, reduction: 'sum' }, { masked: true, reduction: 'none' },
    ] as const;
    for (const { masked, reduction } of variants) {
      it(`matches the reference and finite differences (${masked ? 'masked' : 'unmasked'}, ${reduction})`, async () => {
        const lab = masked ? labelsWithPadding : labels;
        const m = masked ? mask : undefined;
        const run = (x: Tensor) => softmaxCrossEntropy(x, tensor(lab, [N], 'i32'), { mask: m && tensor(m, [N]), reduction });
        const want = crossEntropyRef(logits, N, C, lab, m, reduction);
        expectClose(await gpuValues(() => run(tensor(Float32Array.from(logits), [N, C]))), want, TOL, `loss ${reduction}`);
        await gradCheck({
          inputs: [{ shape: [N, C], values: logits }], gpu: ([x]) => run(x!),
          ref: ([x]) => crossEntropyRef(x!, N, C, lab, m, reduction), tol: GRAD_TOL, label: `cross-entropy ${reduction}`,
        });
      });
    }

    it('ignores non-finite padded rows, survives huge logits, and flags out-of-range labels of real rows', async () => {
      const x = Float32Array.from(logits, (v, i) => (mask[Math.floor(i / C)] ? v * 300 : NaN));
      const xt = tensor(x, [N, C]).requireGrad();
      const loss = softmaxCrossEntropy(xt, tensor(labelsWithPadding, [N], 'i32'), { mask: tensor(mask, [N]) });
      const want = crossEntropyRef(Float64Array.from(x, (v) => (Number.isNaN(v) ? 0 : v)), N, C, labelsWithPadding, mask, 'mean');
      expectClose(await loss.data(), want, { atol: 1e-3, rtol: 1e-5 }, 'huge logits');
      loss.backward(tensor([1], [])); // d loss / d loss
      const g = await xt.grad!.data();
      for (let i = 0; i < g.length; i++) {
        const padded = !mask[Math.floor(i / C)];
        if (padded ? g[i] !== 0 : !Number.isFinite(g[i])) throw new Error(`gradient ${i} is ${g[i]} (${padded ? 'padded' : 'real'} row)`);
      }
      xt.dispose();
      const bad = await gpuValues(() => softmaxCrossEntropy(tensor(Float32Array.from(logits), [N, C]), tensor(labels.map((l, i) => (i === 1 ? C : l)), [N], 'i32')));
      if (!Number.isNaN(bad[0])) throw new Error(`label ${C} of ${C} classes gave loss ${bad[0]}, expected NaN`);
    });

    // The reduced loss is one workgroup whose 64 invocations take rows in turn: more rows than that,
    // some masked, against the reference.
    it('reduces more rows than one workgroup has invocations (150 rows, masked and not)', async () => {
      const rows = 150;
      const many = randomValues(rows * C, 12, -4, 4);
      const r = new Random(5);
      const lab = Int32Array.from({ length: rows }, () => r.int(C));
      const m = Float32Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? 0 : 1));
      for (const reduction of ['mean', 'sum'] as const) {
        for (const mk of [undefined, m]) {
          const got = await gpuValues(() => softmaxCrossEntropy(tensor(Float32Array.from(many), [rows, C]), tensor(lab, [rows], 'i32'), { mask: mk && tensor(mk, [rows]), reduction }));
          expectClose(got, crossEntropyRef(many, rows, C, lab, mk, reduction), { atol: 1e-4, rtol: 1e-5 }, `${reduction}${mk ? ' masked' : ''}`);
        }
      }
    });

    it('gives loss 0 and zero gradients when every row is padding', async () => {
      const xt = tensor(Float32Array.from(logits), [N, C]).requireGrad();
      const loss = softmaxCrossEntropy(xt, tensor(labels, [N], 'i32'), { mask: tensor(new Float32Array(N), [N]) });
      expectClose(await loss.data(), [0], { atol: 0, rtol: 0 }, 'all-padded loss');
      loss.backward(tensor([1], [])); // d loss / d loss
      expectClose(await xt.grad!.data(), new Float32Array(N * C), { atol: 0, rtol: 0 }, 'all-padded gradient');
      xt.dispose();
    });

    it('rejects float labels and mismatched shapes', () => {
      const x = tensor(new Float32Array(6), [2, 3]);
      for (const [labelsT, opts, text] of [
        [tensor([0, 1]), {}, 'int32'],
        [tensor(Int32Array.from([0, 1, 2])), {}, 'int32 [2]'],
        [tensor(Int32Array.from([0, 1])), { mask: tensor([1, 1, 1]) }, 'mask'],
      ] as const) {
        let msg = '';
        try { softmaxCrossEntropy(x, labelsT, opts); } catch (e) { msg = (e as Error).message; }
        if (!msg.includes(text)) throw new Error(`expected an error mentioning '${text}', got '${msg}'`);
      }
    });
  });
});

import { crossEntropyLoss, nllLoss, binaryCrossEntropyWithLogits, type Reduction } from './loss.js';
import { logSoftmax } from '../ops/softmax/softmax.js';
import { softmaxRef } from '../ops/softmax/reference.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../testing/check.js';
import type { Tensor } from '../tensor.js';
import { argmax } from '../ops/reduce/reduce.js';

const N = 6;
const C = 5;
const TOL = { atol: 1e-5, rtol: 1e-5 };
const GRAD_TOL = { atol: 2e-3, rtol: 2e-3 };
const labels = [3, 0, 4, -100, 1, 2];
const IGNORE = -100;

/** PyTorch's cross_entropy with label smoothing ε and ignore_index, in float64. */
function crossEntropyRef(x: Float64Array, lab: number[], eps: number, reduction: Reduction, mask?: number[]): Float64Array {
  const logp = softmaxRef(x, [N, C], 1, true);
  const rows = new Float64Array(N);
  let count = 0;
  for (let n = 0; n < N; n++) {
    const w = (lab[n] === IGNORE ? 0 : 1) * (mask ? mask[n]! : 1);
    if (w === 0) continue;
    count += w;
    let uniform = 0;
    for (let c = 0; c < C; c++) uniform -= logp[n * C + c]! / C;
    rows[n] = w * ((1 - eps) * -logp[n * C + lab[n]!]! + eps * uniform);
  }
  if (reduction === 'none') return rows;
  const total = rows.reduce((a, b) => a + b, 0);
  return Float64Array.of(reduction === 'sum' ? total : count > 0 ? total / count : 0);
}

function nllRef(logp: Float64Array, lab: number[], reduction: Reduction): Float64Array {
  const rows = Float64Array.from(lab, (l, n) => (l === IGNORE ? 0 : -logp[n * C + l]!));
  if (reduction === 'none') return rows;
  const total = rows.reduce((a, b) => a + b, 0);
  const count = lab.filter((l) => l !== IGNORE).length;
  return Float64Array.of(reduction === 'sum' ? total : total / count);
}

function bceRef(x: Float64Array, y: Float64Array, reduction: Reduction, posWeight?: Float64Array): Float64Array {
  const rows = x.map((v, i) => {
    const p = 1 / (1 + Math.exp(-v));
    const pw = posWeight ? posWeight[i % posWeight.length]! : 1;
    return -(pw * y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p));
  });
  if (reduction === 'none') return rows;
  const total = rows.reduce((a, b) => a + b, 0);
  return Float64Array.of(reduction === 'sum' ? total : total / rows.length);
}

const reductions: Reduction[] = ['mean', 'sum', 'none'];

describe('losses', () => {
  const x = randomValues(N * C, 600, -3, 3);

  for (const eps of [0, 0.1]) {
    for (const reduction of reductions) {
      it(`crossEntropyLoss (labelSmoothing ${eps}, ignoreIndex, ${reduction}) matches PyTorch's formula and finite differences, host and GPU labels alike`, async () => {
        const want = crossEntropyRef(x, labels, eps, reduction);
        const opts = { labelSmoothing: eps, ignoreIndex: IGNORE, reduction };
        expectClose(await gpuValues(() => crossEntropyLoss(tensor(Float32Array.from(x), [N, C]), labels, opts)), want, TOL, 'host labels');
        const gpuLabels = tensor(Int32Array.from(labels), [N], 'i32');
        expectClose(await gpuValues(() => crossEntropyLoss(tensor(Float32Array.from(x), [N, C]), gpuLabels, opts)), want, TOL, 'GPU labels');
        const mask = [1, 1, 0, 1, 1, 1];
        const m = tensor(mask);
        expectClose(await gpuValues(() => crossEntropyLoss(tensor(Float32Array.from(x), [N, C]), gpuLabels, { ...opts, mask: m })),
          crossEntropyRef(x, labels, eps, reduction, mask), TOL, 'mask and ignoreIndex');
        await gradCheck({
          inputs: [{ shape: [N, C], values: x }],
          gpu: ([t]) => crossEntropyLoss(t!, gpuLabels, { ...opts, mask: m }),
          ref: ([v]) => crossEntropyRef(v!, labels, eps, reduction, mask),
          tol: GRAD_TOL,
          label: 'crossEntropyLoss',
        });
        gpuLabels.dispose();
        m.dispose();
      });
    }
  }

  it('rejects a host label outside [0, classes) with one line naming the row, before any GPU work', () => {
    const logits = tensor(Float32Array.from(x), [N, C]);
    for (const [f, name] of [[crossEntropyLoss, 'crossEntropyLoss'], [nllLoss, 'nllLoss']] as const) {
      let msg = '';
      try { f(logits, [3, 0, 4, 5, 1, 2]); } catch (e) { msg = (e as Error).message; }
      if (msg !== `${name}: label 5 of row 3 is outside [0, 5)`) throw new Error(`unexpected error: '${msg}'`);
      msg = '';
      try { f(logits, [3, 0, -1, 0, 1, 2]); } catch (e) { msg = (e as Error).message; }
      if (!msg.includes('label -1 of row 2')) throw new Error(`unexpected error: '${msg}'`);
    }
    logits.dispose();
  });

  it('rejects a label tensor made from host values outside [0, classes) (ignoreIndex still allowed)', () => {
    const logits = tensor(Float32Array.from(x), [N, C]);
    const bad = tensor(Int32Array.from([3, 0, 4, 7, 1, 2]), [N], 'i32');
    let msg = '';
    try { crossEntropyLoss(logits, bad); } catch (e) { msg = (e as Error).message; }
    if (msg !== 'crossEntropyLoss: label 7 of row 3 is outside [0, 5)') throw new Error(`unexpected error: '${msg}'`);
    const ignored = tensor(Int32Array.from([3, 0, -100, 4, 1, 2]), [N], 'i32');
    crossEntropyLoss(logits, ignored, { ignoreIndex: -100 }).dispose();
    // Written over on the GPU, a tensor's host values no longer speak for it.
    bad.runtime.write(bad, Int32Array.from([3, 0, 4, 1, 1, 2]));
    crossEntropyLoss(logits, bad).dispose();
    for (const t of [logits, bad, ignored]) t.dispose();
  });

  it('checks labels computed on the GPU with a kernel: the next read throws one line naming the first bad row, once', async () => {
    const logits = tensor(Float32Array.from(x), [N, C]);
    // argmax over 8 columns: row 3's maximum is column 6, outside the 5 classes
    const oneHot = (cols: number[]) => tensor(Float32Array.from({ length: N * 8 }, (_, i) => (i % 8 === cols[Math.floor(i / 8)] ? 1 : 0)), [N, 8]);
    const scores = oneHot([3, 0, 4, 6, 1, 7]);
    const predicted = argmax(scores, 1);
    if (predicted.hostValues) throw new Error('an argmax result must not carry host values');
    const loss = crossEntropyLoss(logits, predicted, { labelSmoothing: 0.1 });
    let msg = '';
    try { await loss.item(); } catch (e) { msg = (e as Error).message; }
    if (msg !== 'crossEntropyLoss: label 6 of row 3 is outside [0, 5) (labels computed on the GPU, found at this read)') throw new Error(`unexpected error: '${msg}'`);
    await loss.item(); // reported once: reads work again
    // the first failure since the last read is the one reported; a later loss's read throws it
    const negative = tensor(Int32Array.from([0, 0, 0, 0, 0, 0]), [N], 'i32');
    negative.runtime.write(negative, Int32Array.from([1, -3, 0, 0, 9, 0]));
    const first = nllLoss(logits, negative);
    const second = crossEntropyLoss(logits, predicted);
    msg = '';
    try { await second.data(); } catch (e) { msg = (e as Error).message; }
    if (msg !== 'nllLoss: label -3 of row 1 is outside [0, 5) (labels computed on the GPU, found at this read)') throw new Error(`unexpected error: '${msg}'`);
    // labels in range, and ignoreIndex, pass the check and give the reference's value
    const good = oneHot([3, 0, 4, 0, 1, 2]);
    const inRange = argmax(good, 1);
    const ignored = tensor(Int32Array.from([0, 0, 0, 0, 0, 0]), [N], 'i32');
    ignored.runtime.write(ignored, Int32Array.from(labels));
    expectClose([await crossEntropyLoss(logits, inRange).item()], crossEntropyRef(x, [3, 0, 4, 0, 1, 2], 0, 'mean'), TOL, 'GPU labels in range');
    expectClose([await crossEntropyLoss(logits, ignored, { ignoreIndex: IGNORE }).item()], crossEntropyRef(x, labels, 0, 'mean'), TOL, 'GPU labels with ignoreIndex');
    for (const t of [logits, scores, predicted, loss, negative, first, second, good, inRange, ignored]) t.dispose();
  });

  for (const reduction of reductions) {
    it(`nllLoss with ignoreIndex (${reduction}) matches the reference and finite differences`, async () => {
      const logp = softmaxRef(x, [N, C], 1, true);
      const gpuLabels = tensor(Int32Array.from(labels), [N], 'i32');
      expectClose(await gpuValues(() => nllLoss(logSoftmax(tensor(Float32Array.from(x), [N, C]), 1), gpuLabels, { ignoreIndex: IGNORE, reduction })),
        nllRef(logp, labels, reduction), TOL, 'nllLoss');
      await gradCheck({
        inputs: [{ shape: [N, C], values: logp }],
        gpu: ([t]) => nllLoss(t!, labels, { ignoreIndex: IGNORE, reduction }),
        ref: ([v]) => nllRef(v!, labels, reduction),
        tol: GRAD_TOL,
        label: 'nllLoss',
      });
      gpuLabels.dispose();
    });
  }

  for (const reduction of reductions) {
    it(`binaryCrossEntropyWithLogits (${reduction}, with and without posWeight) matches the reference, stays finite for large logits, and has gradients`, async () => {
      const shape = [3, 4];
      const xv = randomValues(12, 610, -4, 4);
      const yv = randomValues(12, 611, 0, 1);
      const pw = Float64Array.of(0.5, 2, 1, 3);
      const run = (xt: Tensor, pos?: Tensor) => binaryCrossEntropyWithLogits(xt, tensor(Float32Array.from(yv), shape), { reduction, ...(pos ? { posWeight: pos } : {}) });
      expectClose(await gpuValues(() => run(tensor(Float32Array.from(xv), shape))), bceRef(xv, yv, reduction), TOL, 'bce');
      const pwt = tensor(Float32Array.from(pw), [4]);
      expectClose(await gpuValues(() => run(tensor(Float32Array.from(xv), shape), pwt)), bceRef(xv, yv, reduction, pw), TOL, 'bce posWeight');
      await gradCheck({ inputs: [{ shape, values: xv }], gpu: ([t]) => run(t!, pwt), ref: ([v]) => bceRef(v!, yv, reduction, pw), tol: GRAD_TOL, label: 'bce' });
      pwt.dispose();
      // logits of ±200 would overflow exp in a naive formula
      const big = Float64Array.from({ length: 12 }, (_, i) => (i % 2 ? 200 : -200));
      const got = await gpuValues(() => run(tensor(Float32Array.from(big), shape)));
      const want = Float64Array.from(big, (v, i) => (v > 0 ? (1 - yv[i]!) * v : yv[i]! * -v));
      const reduced = reduction === 'none' ? want : Float64Array.of(want.reduce((a, b) => a + b, 0) / (reduction === 'mean' ? 12 : 1));
      expectClose(got, reduced, { atol: 1e-3, rtol: 1e-5 }, 'bce large logits');
    });
  }
});

import { UNARY_REF, BINARY_REF, binaryRef } from './reference.js';
import * as ew from './elementwise.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import type { Tensor } from '../../tensor.js';

const unaryOps: Record<string, (x: Tensor) => Tensor> = {
  neg: ew.neg, exp: ew.exp, log: ew.log, sqrt: ew.sqrt, relu: ew.relu, sigmoid: ew.sigmoid, tanh: ew.tanh, square: ew.square,
};
const binaryOps: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, maximum: ew.maximum,
};
// log and sqrt need positive inputs; others see both signs.
const positive = new Set(['log', 'sqrt']);
const shapes = [[1], [7], [3, 5], [2, 3, 4, 5], [1, 1, 1]];
const broadcastPairs: Array<[number[], number[]]> = [
  [[3, 5], [3, 5]], [[3, 5], [5]], [[3, 1], [1, 4]], [[2, 3, 4], [3, 1]], [[5], [2, 3, 5]], [[1], [4, 3]], [[2, 1, 3], [2, 4, 1]],
];

describe('element-wise ops', () => {
  for (const [name, op] of Object.entries(unaryOps)) {
    it(`${name} matches the float64 reference and finite differences`, async () => {
      for (const [k, shape] of shapes.entries()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = randomValues(n, k + 1, positive.has(name) ? 0.2 : -2, 2);
        const got = await gpuValues(() => op(tensor(Float32Array.from(x), shape)));
        expectClose(got, x.map(UNARY_REF[name]!), { atol: 1e-5, rtol: 1e-5 }, `${name} [${shape}]`);
      }
      // relu's kink: keep the gradient check away from 0.
      const x = randomValues(12, 7, positive.has(name) ? 0.5 : -2, 2).map((v) => (name === 'relu' && Math.abs(v) < 0.05 ? 0.5 : v));
      await gradCheck({
        inputs: [{ shape: [3, 4], values: x }],
        gpu: ([t]) => op(t!),
        ref: ([v]) => v!.map(UNARY_REF[name]!),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: name,
      });
    });
  }

  for (const [name, op] of Object.entries(binaryOps)) {
    it(`${name} broadcasts like NumPy and its gradients sum back to each operand`, async () => {
      for (const [k, [sa, sb]] of broadcastPairs.entries()) {
        const na = sa.reduce((a, b) => a * b, 1);
        const nb = sb.reduce((a, b) => a * b, 1);
        const a = randomValues(na, 10 + k, -2, 2);
        // keep divisors away from zero
        const b = randomValues(nb, 20 + k, 0.5, 2).map((v, i) => (i % 2 ? -v : v));
        const got = await gpuValues(() => op(tensor(Float32Array.from(a), sa), tensor(Float32Array.from(b), sb)));
        expectClose(got, binaryRef(BINARY_REF[name]!, a, sa, b, sb), { atol: 1e-5, rtol: 1e-5 }, `${name} [${sa}]∘[${sb}]`);
        await gradCheck({
          inputs: [{ shape: sa, values: a }, { shape: sb, values: b }],
          gpu: ([x, y]) => op(x!, y!),
          ref: ([x, y]) => binaryRef(BINARY_REF[name]!, x!, sa, y!, sb),
          tol: { atol: 3e-3, rtol: 3e-3 },
          label: `${name} [${sa}]∘[${sb}]`,
        });
      }
    });
  }

  for (const [name, op, ref] of [
    ['addScalar', (t: Tensor) => ew.addScalar(t, 1.5), (v: number) => v + 1.5],
    ['mulScalar', (t: Tensor) => ew.mulScalar(t, -0.75), (v: number) => v * -0.75],
  ] as const) {
    it(`${name} matches the reference with finite-difference gradients`, async () => {
      const x = randomValues(10, 31);
      expectClose(await gpuValues(() => op(tensor(Float32Array.from(x), [2, 5]))), x.map(ref), { atol: 1e-6, rtol: 1e-6 }, name);
      await gradCheck({ inputs: [{ shape: [2, 5], values: x }], gpu: ([t]) => op(t!), ref: ([v]) => v!.map(ref), tol: { atol: 2e-3, rtol: 2e-3 }, label: name });
    });
  }

  it('rejects shapes that cannot broadcast, naming both', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 2]);
    let msg = '';
    try { ew.add(a, b); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes('[3]') || !msg.includes('[2]')) throw new Error(`unexpected error: '${msg}'`);
    a.dispose(); b.dispose();
  });
});

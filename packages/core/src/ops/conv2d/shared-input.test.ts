import assert from 'node:assert/strict';
import type { DataFormat } from '@squeeze/kernels-wgsl';
import { conv2d } from './conv2d.js';
import { conv2dGeometry } from './geometry.js';
import { convTuningFor, type ConvTuning } from './plan.js';
import { conv2dBackwardDataRef } from './reference.js';
import { layoutShape, TEST_TUNING } from './testing/cases.js';
import { tensor } from '../creation/creation.js';
import { relu } from '../elementwise/elementwise.js';
import { concat } from '../shape-ops/shape-ops.js';
import { getRuntime } from '../../runtime/global.js';
import { expectClose, randomValues } from '../../testing/check.js';

describe('conv2d backward-data adding the gradient of the input\'s other consumers (a fire module\'s two expands)', function () {
  this.timeout(300_000);

  /** Kernel names the runtime dispatches while `fn` runs. */
  function kernelsOf(fn: () => void): string[] {
    const rt = getRuntime();
    const names: string[] = [];
    const run = rt.run;
    rt.run = function (this: typeof rt, kernel, ...rest) { names.push(kernel.name); return run.call(this, kernel, ...rest); } as typeof rt.run;
    try { fn(); } finally { rt.run = run; }
    return names;
  }

  for (const [name, tuning] of [['implicit GEMM only', () => TEST_TUNING], ['the adapter\'s tuning', () => convTuningFor(getRuntime().description)]] as Array<[string, () => ConvTuning]>) {
    it(`x → 1×1 and 3×3 convolutions: dx is the sum of both backward-datas, with no add pass (${name})`, async () => {
      for (const [k, [nchw, dataFormat]] of ([[[2, 6, 5, 5], 'NCHW'], [[2, 6, 5, 5], 'NHWC'], [[2, 8, 4, 4], 'NCHW'], [[2, 8, 4, 4], 'NHWC']] as Array<[number[], DataFormat]>).entries()) {
        const xShape = layoutShape(dataFormat, nchw);
        const C = nchw[1]!;
        const [o1, o3] = [8, 4];
        const x0v = randomValues(nchw.reduce((a, b) => a * b, 1), 3000 + k, 0.1, 1);
        const w1v = randomValues(o1 * C, 3100 + k);
        const w3v = randomValues(o3 * C * 9, 3200 + k);
        const x0 = tensor(Float32Array.from(x0v), xShape).requireGrad();
        const w1 = tensor(Float32Array.from(w1v), [o1, C, 1, 1]).requireGrad();
        const w3 = tensor(Float32Array.from(w3v), [o3, C, 3, 3]).requireGrad();
        // x is an op's output (x0 > 0: relu passes it and its gradient through), so both of its
        // gradients meet in autograd rather than in a leaf's .grad.
        const x = relu(x0);
        const opts = { dataFormat, tuning: tuning() };
        const y1 = conv2d(x, w1, { ...opts, padding: 'VALID' });
        const y3 = conv2d(x, w3, { ...opts, padding: 'SAME' });
        // Both outputs feed one node, their concatenation (as a fire module's), so dx's two parts meet
        // in one backward.
        const axis = dataFormat === 'NCHW' ? 1 : 3;
        const y = concat([y1, y3], axis);
        const gv = randomValues(y.size, 3300 + k);
        const kernels = kernelsOf(() => y.backward(tensor(Float32Array.from(gv), y.shape)));
        // One element-wise pass: relu's backward (reluBackward); none adds the two parts of dx.
        assert.equal(kernels.filter((n) => n === 'binary_same').length, 1, `no add pass: ${kernels.join(', ')}`);
        // The channel slices of y's gradient are y1's and y3's.
        const [H, W] = [nchw[2]!, nchw[3]!];
        const slice = (first: number, count: number) => Float64Array.from({ length: nchw[0]! * count * H * W }, (_, i) => {
          if (dataFormat === 'NCHW') {
            const [n, r] = [Math.floor(i / (count * H * W)), i % (count * H * W)];
            return gv[n * (o1 + o3) * H * W + first * H * W + r]!;
          }
          const [p, c] = [Math.floor(i / count), i % count];
          return gv[p * (o1 + o3) + first + c]!;
        });
        const [g1v, g3v] = [slice(0, o1), slice(o1, o3)];
        const g1 = conv2dGeometry(xShape, [o1, C, 1, 1], { dataFormat, padding: 'VALID' });
        const g3 = conv2dGeometry(xShape, [o3, C, 3, 3], { dataFormat, padding: 'SAME' });
        const want = conv2dBackwardDataRef(g1v, w1v, g1).map((v, i) => v + conv2dBackwardDataRef(g3v, w3v, g3)[i]!);
        expectClose(await x0.grad!.data(), want, { atol: 2e-4, rtol: 2e-4 }, `[${xShape}] ${dataFormat} dx`);
        for (const t of [x0, w1, w3, x, y1, y3, y]) t.dispose();
      }
    });
  }
});

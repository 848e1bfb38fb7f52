import assert from 'node:assert/strict';
import { ADAM_BUFFERS_PER_TENSOR, adamTensorsPerDispatch } from '@squeeze/kernels-wgsl';
import { Adam } from './adam.js';
import { adamStepRef, type AdamRefState } from './reference.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, randomValues } from '../testing/check.js';
import { getRuntime } from '../runtime/global.js';

/**
 * Adam updates as many parameters per dispatch as the device's storage buffers per stage allow:
 * four buffers each, so two on WebGPU's default 8 and on SwiftShader's 10, four on Dawn's 16. The
 * limit is lowered on the runtime's description (never raised past the device's own), and the
 * values must match PyTorch's algorithm whatever the grouping.
 */
describe('Adam under storage-buffer limits', () => {
  const shapes = [[3, 5], [7], [1], [2, 700], [5, 3], [33, 90], [4]];
  const opts = { lr: 0.01, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, decoupled: false };

  it('maps the limit to parameters per dispatch', () => {
    assert.deepEqual([4, 7, 8, 10, 12, 16, 31, 64].map(adamTensorsPerDispatch), [1, 1, 2, 2, 3, 4, 4, 4]);
  });

  const rt = () => getRuntime();
  const limits = () => [4, 8, 10, 16].filter((l) => l <= rt().description.limits.maxStorageBuffersPerShaderStage);
  for (const limit of [4, 8, 10, 16]) {
    it(`maxStorageBuffersPerShaderStage ${limit}: ⌈${shapes.length} / ${adamTensorsPerDispatch(limit)}⌉ dispatches, values as the float64 reference`, async function () {
      if (!limits().includes(limit)) this.skip(); // the device itself allows fewer
      const d = rt().description.limits;
      const saved = d.maxStorageBuffersPerShaderStage;
      d.maxStorageBuffersPerShaderStage = limit;
      const values = shapes.map((s, k) => randomValues(s.reduce((a, b) => a * b, 1), 10 + k, -2, 2));
      const params = values.map((v, k) => tensor(Float32Array.from(v), shapes[k]).requireGrad());
      const opt = new Adam(params, { lr: opts.lr });
      const ref = values.map((v) => ({ p: Float64Array.from(v), state: { step: 0, expAvg: new Float64Array(v.length), expAvgSq: new Float64Array(v.length) } as AdamRefState }));
      const run = rt().run;
      const dispatches: number[] = [];
      rt().run = ((kernel, p, bindings, ...rest) => {
        if (kernel.name === 'adam_step') dispatches.push(bindings.length);
        return run.call(rt(), kernel, p, bindings, ...rest);
      }) as typeof run;
      try {
        for (let step = 1; step <= 2; step++) {
          params.forEach((p, k) => {
            const g = randomValues(p.size, 100 * step + k, -1, 1);
            p.grad = tensor(Float32Array.from(g), p.shape);
            adamStepRef(ref[k]!.p, g, ref[k]!.state, opts);
          });
          opt.step();
          opt.zeroGrad();
        }
      } finally {
        rt().run = run;
        d.maxStorageBuffersPerShaderStage = saved;
      }
      const perDispatch = adamTensorsPerDispatch(limit);
      assert.equal(dispatches.length, 2 * Math.ceil(shapes.length / perDispatch));
      assert.ok(dispatches.every((b) => b <= limit && b % ADAM_BUFFERS_PER_TENSOR === 0), `buffers per dispatch ${dispatches}`);
      for (const [k, p] of params.entries()) expectClose(await p.data(), ref[k]!.p, { atol: 2e-6, rtol: 2e-5 }, `param ${k}`);
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }
});

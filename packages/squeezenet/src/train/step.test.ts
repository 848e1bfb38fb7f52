import assert from 'node:assert/strict';
import { Adam, Random, getRuntime } from '@squeeze/core';
import { SqueezeNetCifar } from '../model/squeezenet.js';
import { ADAM, encodeEvalBatch, encodeTrainStep } from './step.js';

describe('the training step with horizontal fusion', function () {
  // Both layouts' steps, fused and not: a few dozen pipelines to compile on lavapipe.
  this.timeout(900_000);
  const batch = 2;

  for (const dataFormat of ['NCHW', 'NHWC'] as const) {
    it(`gives bit for bit the losses, weights, running statistics and predictions of the kernels one by one, in fewer dispatches (${dataFormat})`, async () => {
      const rt = getRuntime();
      const rng = new Random(5);
      const xs = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => rng.next() * 2 - 1);
      const ys = Int32Array.from({ length: batch }, () => rng.int(10));
      const wasOn = rt.horizontalFusion;
      const run = async (fused: boolean) => {
        rt.horizontalFusion = fused;
        try {
          const model = new SqueezeNetCifar({ dataFormat, seed: 3 });
          const optimizer = new Adam(model.namedParameters(), { lr: 1e-3, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
          const losses: number[] = [];
          let kernels = 0;
          for (let step = 0; step < 2; step++) {
            const [loss, predictions, counts] = encodeTrainStep(model, optimizer, xs, ys, batch);
            losses.push((await loss.data())[0]!);
            kernels = counts.total;
            loss.dispose();
            predictions.dispose();
          }
          const state: Float32Array[] = [];
          for (const t of Object.values(model.stateDict())) state.push(await t.data() as Float32Array);
          model.eval();
          const predicted = encodeEvalBatch(model, xs, batch);
          const labels = await predicted.data();
          predicted.dispose();
          model.dispose();
          optimizer.dispose();
          return { losses, state, labels, kernels };
        } finally {
          rt.horizontalFusion = wasOn;
        }
      };
      const alone = await run(false);
      const fused = await run(true);
      assert.deepEqual(fused.losses, alone.losses);
      assert.equal(fused.state.length, alone.state.length);
      fused.state.forEach((t, i) => assert.deepEqual(t, alone.state[i], `state tensor ${i}`));
      assert.deepEqual(fused.labels, alone.labels);
      assert.ok(fused.kernels < alone.kernels, `fused ${fused.kernels} kernels a step, alone ${alone.kernels}`);
    });
  }
});

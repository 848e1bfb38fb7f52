/**
 * Timing of batch norm (fused with ReLU, training) on the SqueezeNet/CIFAR-10 shapes at batch 32,
 * both layouts. Not a test: `node packages/core/dist/ops/batchnorm/batchnorm.bench.js [repeats]`.
 * Prints wall-clock ms (each timing ends with a sync) and the effective bandwidth of: the training
 * forward (statistics pass + normalise/ReLU pass), its backward (sums pass + dx pass, weight and
 * bias gradients included) and the eval forward (the normalise/ReLU pass alone).
 */
import { init, shutdown } from '../../runtime/global.js';
import { randn, ones, zeros } from '../creation/creation.js';
import { batchNormRelu } from './batchnorm.js';
import type { Tensor } from '../../tensor.js';

const SHAPES_NCHW = [[32, 96, 32, 32], [32, 128, 16, 16], [32, 16, 16, 16], [32, 256, 8, 8], [32, 512, 4, 4]];
/** Steps timed between two syncs; the best of `repeats` such batches is reported. */
const BATCH = 3;
const repeats = Number(process.argv[2] ?? 5);

const rt = await init();
console.log(`${rt.description.description}; best of ${repeats} batches of ${BATCH} steps`);
console.log('shape (NCHW)        layout  train fwd ms  (GB/s)   train bwd ms  (GB/s)   eval fwd ms  (GB/s)');

for (const nchw of SHAPES_NCHW) {
  for (const dataFormat of ['NCHW', 'NHWC'] as const) {
    const [n, c, h, w] = nchw as [number, number, number, number];
    const shape = dataFormat === 'NCHW' ? nchw : [n, h, w, c];
    const x = randn(shape, { seed: 1 }).requireGrad();
    const g = randn(shape, { seed: 2 });
    const weight = ones([c]).requireGrad();
    const bias = zeros([c]).requireGrad();
    const runningMean = zeros([c]);
    const runningVar = ones([c]);
    const opts = { weight, bias, runningMean, runningVar, training: true, dataFormat };
    const clearGrads = () => { for (const t of [x, weight, bias]) { t.grad?.dispose(); t.grad = null; } };

    const step = (backward: boolean, training = true) => {
      const y = batchNormRelu(x, { ...opts, training });
      if (backward) y.backward(g);
      y.dispose();
      clearGrads();
    };
    // The best of several short batches: the machine is shared, so the minimum is the best
    // estimate of the op's own cost.
    const time = async (backward: boolean, training = true): Promise<number> => {
      step(backward, training);
      await rt.sync();
      let best = Infinity;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        for (let i = 0; i < BATCH; i++) step(backward, training);
        await rt.sync();
        best = Math.min(best, (performance.now() - t0) / BATCH);
      }
      return best;
    };
    const forwardMs = await time(false);
    const bothMs = await time(true);
    const backwardMs = bothMs - forwardMs;

    const evalMs = await time(false, false);
    const bytes = x.size * 4;
    // training forward: x read twice, y written; backward: g and x read twice, dx written;
    // eval forward: x read, y written.
    const gbs = (passes: number, ms: number) => ((passes * bytes) / (ms * 1e6)).toFixed(2);
    console.log(
      `[${nchw.join(',')}]`.padEnd(20), dataFormat.padEnd(7),
      forwardMs.toFixed(2).padStart(12), `(${gbs(3, forwardMs)})`.padStart(8),
      backwardMs.toFixed(2).padStart(14), `(${gbs(5, backwardMs)})`.padStart(8),
      evalMs.toFixed(2).padStart(13), `(${gbs(2, evalMs)})`.padStart(8),
    );
    for (const t of [x, g, weight, bias, runningMean, runningVar] as Tensor[]) t.dispose();
  }
}
shutdown();

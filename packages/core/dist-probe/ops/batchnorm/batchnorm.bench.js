/**
 * Timing of batch norm fused with ReLU on the SqueezeNet/CIFAR-10 shapes at batch 32, both
 * layouts. Not a test: `node packages/core/dist/ops/batchnorm/batchnorm.bench.js [repeats]`.
 * Prints wall-clock ms (each timing ends with a sync) and the effective bandwidth of the training
 * forward (statistics pass + normalise/ReLU pass), its backward (sums pass + dx pass, dweight and
 * dbias included), the eval forward (the normalise/ReLU pass alone), and for comparison
 * training forward + backward of batchNorm followed by a separate relu.
 */
import { init, shutdown } from '../../runtime/global.js';
import { randn, ones, zeros } from '../creation/creation.js';
import { relu } from '../elementwise/elementwise.js';
import { batchNorm, batchNormRelu } from './batchnorm.js';
const SHAPES_NCHW = [[32, 96, 32, 32], [32, 128, 16, 16], [32, 16, 16, 16], [32, 256, 8, 8], [32, 512, 4, 4]];
/** Steps timed between two syncs; the best of `repeats` such batches is reported. */
const BATCH = 3;
const repeats = Number(process.argv[2] ?? 8);
const rt = await init();
console.log(`${rt.description.description}; best of ${repeats} batches of ${BATCH} steps`);
console.log('shape (NCHW)        layout  train fwd ms (GB/s)  train bwd ms (GB/s)  eval fwd ms (GB/s)  unfused fwd+bwd ms');
for (const nchw of SHAPES_NCHW) {
    for (const dataFormat of ['NCHW', 'NHWC']) {
        const [n, c, h, w] = nchw;
        const shape = dataFormat === 'NCHW' ? nchw : [n, h, w, c];
        const x = randn(shape, { seed: 1 }).requireGrad();
        const g = randn(shape, { seed: 2 });
        const weight = ones([c]).requireGrad();
        const bias = zeros([c]).requireGrad();
        const runningMean = zeros([c]);
        const runningVar = ones([c]);
        const opts = { weight, bias, runningMean, runningVar, training: true, dataFormat };
        const clearGrads = () => { for (const t of [x, weight, bias]) {
            t.grad?.dispose();
            t.grad = null;
        } };
        /** Records BATCH steps of `kind` and returns the ms per step from the start of the timed part to the sync. */
        const batch = async (kind) => {
            // The backward is timed alone: its forwards run (and finish) first.
            const ys = kind === 'backward' ? Array.from({ length: BATCH }, () => batchNormRelu(x, opts)) : [];
            await rt.sync();
            const t0 = performance.now();
            for (let i = 0; i < BATCH; i++) {
                if (kind === 'backward') {
                    ys[i].backward(g);
                    ys[i].dispose();
                }
                else if (kind === 'unfused') {
                    const z = batchNorm(x, opts);
                    const y = relu(z);
                    y.backward(g);
                    y.dispose();
                    z.dispose();
                }
                else
                    batchNormRelu(x, { ...opts, training: kind === 'forward' }).dispose();
                clearGrads();
            }
            await rt.sync();
            return (performance.now() - t0) / BATCH;
        };
        // The kinds take turns, and each keeps its best batch: the machine is shared, so the
        // minimum is the best estimate of the op's own cost.
        const kinds = ['forward', 'backward', 'eval', 'unfused'];
        const best = {};
        for (const k of kinds) {
            await batch(k);
            best[k] = Infinity;
        }
        for (let r = 0; r < repeats; r++)
            for (const k of kinds)
                best[k] = Math.min(best[k], await batch(k));
        const forwardMs = best.forward;
        const backwardMs = best.backward;
        const bytes = x.size * 4;
        // training forward: x read twice, y written; backward: g and x read twice, dx written;
        // eval forward: x read, y written.
        const cell = (ms, passes) => `${ms.toFixed(2).padStart(8)} (${((passes * bytes) / (ms * 1e6)).toFixed(2)})`.padEnd(20);
        console.log(`[${nchw.join(',')}]`.padEnd(20), dataFormat.padEnd(7), cell(forwardMs, 3), cell(backwardMs, 5), cell(best.eval, 2), best.unfused.toFixed(2).padStart(10));
        for (const t of [x, g, weight, bias, runningMean, runningVar])
            t.dispose();
    }
}
shutdown();
//# sourceMappingURL=batchnorm.bench.js.map
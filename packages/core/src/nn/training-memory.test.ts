// Through the package entry point, which also wires autograd's default ops (backward of a scalar).
import { Sequential, Linear, ReLU, crossEntropyLoss, manualSeed, Adam, tensor, tidy, memory, type MemoryInfo } from '../index.js';
import { randomValues } from '../testing/check.js';

const STEPS = 200;
/** Steps after which buffer sizes, optimizer state and gradients have all been allocated once. */
const WARMUP = 5;

describe('training memory', () => {
  it(`${STEPS} tidy training steps keep live tensors, pool high water and buffers created constant`, async () => {
    manualSeed(3);
    const model = new Sequential(new Linear(8, 32), new ReLU(), new Linear(32, 4));
    const optimizer = new Adam(model.namedParameters(), { lr: 1e-2 });
    const x = tensor(Float32Array.from(randomValues(16 * 8, 11)), [16, 8]);
    const labels = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16], 'i32');
    let steady: MemoryInfo | null = null;
    let firstLoss = NaN;
    let lastLoss = NaN;
    for (let step = 0; step < STEPS; step++) {
      const loss = tidy(() => {
        const l = crossEntropyLoss(model.forward(x), labels);
        l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        return l;
      });
      // Reading the loss every step, as a training loop that logs it does, also submits the work.
      lastLoss = await loss.item();
      if (step === 0) firstLoss = lastLoss;
      loss.dispose();
      const m = memory();
      if (step === WARMUP) steady = m;
      // A leak raises the live count; it may only fall, when the garbage collector reclaims tensors
      // other test suites dropped without dispose().
      else if (steady && (m.liveTensors > steady.liveTensors || m.poolHighWater !== steady.poolHighWater || m.buffersCreated !== steady.buffersCreated)) {
        throw new Error(`step ${step}: ${JSON.stringify(m)} differs from step ${WARMUP}: ${JSON.stringify(steady)}`);
      }
    }
    if (!(lastLoss < 0.5 * firstLoss)) throw new Error(`the model did not train: loss ${firstLoss} → ${lastLoss}`);
    const before = memory().liveTensors;
    for (const t of [x, labels]) t.dispose();
    optimizer.dispose();
    model.dispose();
    // 2 inputs, 4 parameters, 2 Adam moments per parameter, and the optimizer's flat buffers the
    // parameters, gradients and moments live in (4).
    if (before - memory().liveTensors !== 2 + 4 + 8 + 4) throw new Error(`dispose freed ${before - memory().liveTensors} tensors, expected 18`);
  });
});

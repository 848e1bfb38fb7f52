import assert from 'node:assert/strict';
import { SqueezeNetCifar } from '@squeeze/squeezenet';
import { PyTorchStep, findTorchPython } from './pytorch.js';

describe('PyTorch baseline (bench/pytorch/squeezenet_step.py)', function () {
  this.timeout(600_000);

  it('builds the same network as ours: equal trainable parameter counts, and times a step', async function () {
    const found = findTorchPython();
    if ('reason' in found) {
      // Skipped, not failed: the bench then reports "PyTorch: not available" with this reason.
      console.log(`      skipped: ${found.reason}`);
      this.skip();
    }
    const model = new SqueezeNetCifar({ dataFormat: 'NHWC', seed: 1 });
    let ours = 0;
    for (const [, p] of model.namedParameters()) ours += p.size;
    model.dispose();
    const torch = await PyTorchStep.start((found as { python: string }).python, 2);
    try {
      assert.equal(await torch.parameters(), ours, 'PyTorch\'s SqueezeNet has our parameter count');
      const ms = await torch.step();
      assert.ok(ms > 0 && Number.isFinite(ms), `a step took ${ms} ms`);
    } finally {
      torch.close();
    }
  });
});

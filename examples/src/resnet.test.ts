import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '@squeeze/core';
import { run, ResidualCnn } from './resnet.js';

describe('examples: residual CNN on Fashion-MNIST (smoke test)', () => {
  it('names its parameters like PyTorch (depthwise weights [C, 1, 3, 3])', () => {
    const model = new ResidualCnn();
    const shapes = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape.join('x')]));
    if (shapes['stages.0.depthwise.weight'] !== '32x1x3x3' || shapes['stages.5.pointwise.weight'] !== '64x64x1x1' || shapes['stages.11.pointwise.weight'] !== '128x128x1x1' || shapes['head.weight'] !== '10x128') {
      throw new Error(`state dict: ${JSON.stringify(shapes)}`);
    }
    model.dispose();
  });

  it('a few steps lower the loss, log the progress accuracy, and save a state dict that loads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squeeze-resnet-'));
    try {
      const save = join(dir, 'model.safetensors');
      const lines: string[] = [];
      const result = await run({ steps: 12, batchSize: 32, lr: 3e-3, trainLimit: 2000, testLimit: 256, evalEvery: 6, save, log: (l) => lines.push(l) });
      if (!(result.loss < result.firstLoss)) throw new Error(`loss ${result.firstLoss} → ${result.loss} did not fall`);
      if (!lines.some((l) => /^step 6: accuracy on 256 test examples \d+\.\d\d%$/.test(l))) throw new Error(`no progress accuracy at step 6 in ${JSON.stringify(lines)}`);
      // (test accuracy is not checked: after a dozen steps batch norm's running statistics are still mostly their initial values)
      if (!(result.accuracy >= 0 && result.accuracy <= 1)) throw new Error(`accuracy ${result.accuracy}`);
      const loaded = loadSafetensors(readFileSync(save));
      const model = new ResidualCnn();
      model.loadStateDict(loaded);
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

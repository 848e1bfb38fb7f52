import { run } from './cnn.js';

describe('examples: CNN on generated 16×16 shapes', () => {
  it('reaches at least 95% test accuracy in 150 Adam steps of 32 images', async () => {
    const { accuracy } = await run({ steps: 150, batchSize: 32 });
    if (!(accuracy >= 0.95)) throw new Error(`test accuracy ${(100 * accuracy).toFixed(1)}% < 95%`);
  });
});

import { run } from './mlp.js';

describe('examples: MLP on the spiral', () => {
  it('reaches at least 95% test accuracy in 300 full-batch Adam steps', async () => {
    const { accuracy } = await run({ steps: 300 });
    if (!(accuracy >= 0.95)) throw new Error(`test accuracy ${(100 * accuracy).toFixed(1)}% < 95%`);
  });
});

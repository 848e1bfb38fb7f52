import { layerNorm } from './layer-norm.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';

/** F.layer_norm in float64: each group of the last `inner` elements normalised with the biased variance. */
function layerNormRef(x: Float64Array, inner: number, w?: Float64Array, b?: Float64Array, eps = 1e-5): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / inner; r++) {
    const row = x.subarray(r * inner, (r + 1) * inner);
    const mu = row.reduce((a, v) => a + v, 0) / inner;
    const variance = row.reduce((a, v) => a + (v - mu) ** 2, 0) / inner;
    row.forEach((v, i) => { out[r * inner + i] = ((v - mu) / Math.sqrt(variance + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0); });
  }
  return out;
}

describe('layerNorm', () => {
  const cases: Array<[number[], number[]]> = [[[4, 6], [6]], [[2, 3, 5], [5]], [[2, 3, 4], [3, 4]], [[7], [7]]];
  for (const [shape, normalized] of cases) {
    it(`[${shape}] over [${normalized}] matches F.layer_norm with and without weight and bias, with gradients to all three`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const inner = normalized.reduce((a, b) => a * b, 1);
      const x = randomValues(n, 700 + n, -2, 3);
      const w = randomValues(inner, 701, 0.5, 1.5);
      const b = randomValues(inner, 702);
      const xt = () => tensor(Float32Array.from(x), shape);
      expectClose(await gpuValues(() => layerNorm(xt(), normalized)), layerNormRef(x, inner), { atol: 1e-5, rtol: 1e-4 }, 'plain');
      expectClose(await gpuValues(() => layerNorm(xt(), normalized, tensor(Float32Array.from(w), normalized), tensor(Float32Array.from(b), normalized), 1e-3)),
        layerNormRef(x, inner, w, b, 1e-3), { atol: 1e-5, rtol: 1e-4 }, 'affine');
      await gradCheck({
        inputs: [{ shape, values: x }, { shape: normalized, values: w }, { shape: normalized, values: b }],
        gpu: ([a, c, d]) => layerNorm(a!, normalized, c!, d!),
        ref: ([a, c, d]) => layerNormRef(a!, inner, c!, d!),
        tol: { atol: 3e-3, rtol: 3e-3 },
        label: `layerNorm [${shape}]`,
      });
    });
  }

  it('rejects an input that does not end with the normalised shape', () => {
    const x = tensor(new Float32Array(12), [3, 4]);
    let msg = '';
    try { layerNorm(x, [3]); } catch (e) { msg = (e as Error).message; }
    x.dispose();
    if (!msg.includes('[3,4]') || !msg.includes('[3]')) throw new Error(`unexpected error '${msg}'`);
  });
});

import type { Tensor } from '../../tensor.js';
import { add, addScalar, div, mul, sqrt, square, sub } from '../elementwise/elementwise.js';
import { mean } from '../reduce/reduce.js';

/**
 * Layer normalisation over the last `normalizedShape.length` axes, as PyTorch's `F.layer_norm`:
 * (x − mean) / √(var + eps) with the biased variance, then `· weight + bias` (both of
 * `normalizedShape`, optional). Composed from reductions and element-wise ops, whose gradient rules
 * give its gradient.
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const k = normalizedShape.length;
  if (k === 0 || x.rank < k || x.shape.slice(-k).some((d, i) => d !== normalizedShape[i])) {
    throw new Error(`layerNorm: input [${x.shape}] does not end with the normalised shape [${normalizedShape}]`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.rank !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new Error(`layerNorm: ${name} has shape [${t.shape}], expected [${normalizedShape}]`);
    }
  }
  const axes = normalizedShape.map((_, i) => x.rank - k + i);
  const centred = sub(x, mean(x, axes, true));
  const variance = mean(square(centred), axes, true);
  let y = div(centred, sqrt(addScalar(variance, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

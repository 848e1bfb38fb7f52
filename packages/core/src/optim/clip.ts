import type { Tensor } from '../tensor.js';
import { keep, tidy } from '../memory.js';
import { noGrad } from '../autograd.js';
import { add, addScalar, mul, mulScalar, sqrt, square } from '../ops/elementwise/elementwise.js';
import { clamp } from '../ops/elementwise/activations.js';
import { sum } from '../ops/reduce/reduce.js';
import { zeros } from '../ops/creation/creation.js';
import { mapUnary } from '../ops/elementwise/elementwise.js';

/**
 * Scales the gradients of `params` so that their joint L2 norm is at most `maxNorm`, as PyTorch's
 * `clip_grad_norm_`: factor min(1, maxNorm / (norm + 1e-6)). Returns the norm before clipping as a
 * one-element tensor; everything stays on the GPU (no read-back). Parameters without a gradient
 * are skipped.
 */
export function clipGradNorm(params: Iterable<Tensor> | Map<string, Tensor>, maxNorm: number): Tensor {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  const list = params instanceof Map ? [...params.values()] : [...params];
  const withGrad = list.filter((p) => p.grad);
  return noGrad(() => tidy(() => {
    if (withGrad.length === 0) return zeros([]);
    const total = sqrt(withGrad.map((p) => sum(square(p.grad!))).reduce((a, b) => add(a, b)));
    // maxNorm / (norm + 1e-6), at most 1
    const factor = clamp(mulScalar(mapUnary('reciprocal', addScalar(total, 1e-6)), maxNorm), null, 1);
    for (const p of withGrad) {
      const scaled = keep(mul(p.grad!, factor));
      p.grad!.dispose();
      p.grad = scaled;
    }
    return total;
  }));
}

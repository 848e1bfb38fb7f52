import { whereKernel, linearWorkgroups, ELEMENTWISE_WG, type UnaryOp } from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { broadcastShapes, broadcastStrides } from '../shape.js';
import { sumTo } from '../reduce/reduce.js';
import { mapBinary, mapUnary } from './elementwise.js';

/** f(x) with gradient g·f'(x), f' a unary kernel of its own (`grad`) evaluated on the saved input. */
function unaryWithDerivative(name: string, op: UnaryOp, grad: UnaryOp, x: Tensor, a?: number, b?: number): Tensor {
  return record(mapUnary(op, x, a, b), name, [x], [x], (g, [x]) => {
    const d = mapUnary(grad, x!, a, b);
    const r = mapBinary('mul', g, d);
    d.dispose();
    return [r];
  });
}

export interface GeluOptions {
  /** 'none' (default): x·Φ(x) with the exact erf, as PyTorch; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, x·Φ(x). */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  return approximate === 'tanh'
    ? unaryWithDerivative('gelu', 'geluTanh', 'geluTanhGrad', x)
    : unaryWithDerivative('gelu', 'gelu', 'geluGrad', x);
}

/** x·sigmoid(x) (also called swish). */
export function silu(x: Tensor): Tensor {
  return unaryWithDerivative('silu', 'silu', 'siluGrad', x);
}

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return unaryWithDerivative('leakyRelu', 'leakyRelu', 'leakyReluGrad', x, slope);
}

const F32_MAX = 3.4028234663852886e38;

/**
 * Clamps to [min, max] (either bound may be omitted). The gradient passes where min ≤ x ≤ max,
 * as PyTorch's.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if ((min === undefined || min === null) && (max === undefined || max === null)) throw new Error('clamp: give at least one of min and max');
  const lo = min ?? -F32_MAX;
  const hi = max ?? F32_MAX;
  return record(mapUnary('clamp', x, lo, hi), 'clamp', [x], [x], (g, [x]) => {
    const mask = mapUnary('clampMask', x!, lo, hi);
    const r = mapBinary('mul', g, mask);
    mask.dispose();
    return [r];
  });
}

/** out = cond ? a : b over the broadcast shape, without recording a gradient; a or b null means 0. */
function whereRaw(cond: Tensor, a: Tensor | null, b: Tensor | null, shape: readonly number[]): Tensor {
  const out = allocTensor(shape);
  if (out.size === 0) return out;
  const strides = (t: Tensor | null) => (t ? broadcastStrides(t.shape, shape) : shape.map(() => 0));
  cond.runtime.run(whereKernel, { cond: cond.dtype, a: a !== null, b: b !== null }, [cond, ...(a ? [a] : []), ...(b ? [b] : []), out], {
    outShape: shape, cStrides: strides(cond), aStrides: strides(a), bStrides: strides(b), n: out.size, rank: shape.length,
  }, linearWorkgroups(out.size, ELEMENTWISE_WG));
  return out;
}

/**
 * Elements of `a` where `cond` is non-zero, of `b` elsewhere, all three broadcast together (NumPy
 * rules). `cond` may be f32 (a 0/1 mask) or int32. Gradients go to the branch each element took.
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error(`where: a and b must be f32, got ${a.dtype} and ${b.dtype}`);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  return record(whereRaw(cond, a, b, shape), 'where', [a, b, cond], [cond], (g, [c], needs) => [
    needs[0] ? sumOwned(whereRaw(c!, g, null, shape), a.shape) : null,
    needs[1] ? sumOwned(whereRaw(c!, null, g, shape), b.shape) : null,
    null,
  ]);
}

function sumOwned(t: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}

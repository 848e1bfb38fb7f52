import {
  unaryKernel, binarySameShapeKernel, binaryBroadcastKernel, linearWorkgroups, ELEMENTWISE_WG,
  type UnaryOp, type BinaryOp,
} from '@squeeze/kernels-wgsl';
import { allocTensor, type Tensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { broadcastShapes, broadcastStrides, sameShape } from '../shape.js';
import { sumTo } from '../reduce/reduce.js';

/** Runs a unary kernel without recording a gradient; `a` and `b` are the op's scalars, if any. */
export function mapUnary(op: UnaryOp, x: Tensor, a?: number, b?: number): Tensor {
  const y = allocTensor(x.shape);
  const n4 = Math.ceil(x.size / 4);
  const uniforms: Record<string, number> = { n4 };
  if (a !== undefined) uniforms['a'] = a;
  if (b !== undefined) uniforms['b'] = b;
  x.runtime.run(unaryKernel, { op }, [x, y], uniforms, linearWorkgroups(n4, ELEMENTWISE_WG));
  return y;
}

/** Runs a binary kernel with broadcasting, without recording a gradient. */
export function mapBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) {
    const c = allocTensor(a.shape);
    const n4 = Math.ceil(a.size / 4);
    a.runtime.run(binarySameShapeKernel, { op }, [a, b, c], { n4 }, linearWorkgroups(n4, ELEMENTWISE_WG));
    return c;
  }
  const shape = broadcastShapes(a.shape, b.shape);
  const c = allocTensor(shape);
  a.runtime.run(binaryBroadcastKernel, { op }, [a, b, c], {
    outShape: shape, aStrides: broadcastStrides(a.shape, shape), bStrides: broadcastStrides(b.shape, shape),
    n: c.size, rank: shape.length,
  }, linearWorkgroups(c.size, ELEMENTWISE_WG));
  return c;
}

// ── unary ops, each with its gradient rule ────────────────────────────────────────────────────

export function neg(x: Tensor): Tensor {
  return record(mapUnary('neg', x), 'neg', [x], [], (g) => [mapUnary('neg', g)]);
}

export function exp(x: Tensor): Tensor {
  const y = mapUnary('exp', x);
  return record(y, 'exp', [x], [y], (g, [y]) => [mapBinary('mul', g, y!)]);
}

export function log(x: Tensor): Tensor {
  return record(mapUnary('log', x), 'log', [x], [x], (g, [x]) => [mapBinary('div', g, x!)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = mapUnary('sqrt', x);
  // d sqrt(x) = g / (2 sqrt(x))
  return record(y, 'sqrt', [x], [y], (g, [y]) => {
    const twoY = mapUnary('mulScalar', y!, 2);
    const r = mapBinary('div', g, twoY);
    twoY.dispose();
    return [r];
  });
}

export function relu(x: Tensor): Tensor {
  // reluBackward(a = x, b = g) = g where x > 0: the mask is never materialised.
  return record(mapUnary('relu', x), 'relu', [x], [x], (g, [x]) => [mapBinary('reluBackward', x!, g)]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = mapUnary('sigmoid', x);
  return record(y, 'sigmoid', [x], [y], (g, [y]) => {
    const oneMinus = mapUnaryOwned('addScalar', mapUnary('neg', y!), 1);
    const d = mapBinary('mul', y!, oneMinus);
    oneMinus.dispose();
    const r = mapBinary('mul', g, d);
    d.dispose();
    return [r];
  });
}

export function tanh(x: Tensor): Tensor {
  const y = mapUnary('tanh', x);
  return record(y, 'tanh', [x], [y], (g, [y]) => {
    const y2 = mapUnary('square', y!);
    const d = mapUnaryOwned('addScalar', mapUnaryOwned('neg', y2), 1);
    const r = mapBinary('mul', g, d);
    d.dispose();
    return [r];
  });
}

/** Applies `op` to the result of another op and disposes that intermediate. */
function mapUnaryOwned(op: UnaryOp, x: Tensor, scalar?: number): Tensor {
  const y = mapUnary(op, x, scalar);
  x.dispose();
  return y;
}

export function addScalar(x: Tensor, s: number): Tensor {
  // d(x + s)/dx = 1: the gradient passes through as a view, no copy kernel.
  return record(mapUnary('addScalar', x, s), 'addScalar', [x], [], (g) => [g.view(g.shape)]);
}

export function mulScalar(x: Tensor, s: number): Tensor {
  return record(mapUnary('mulScalar', x, s), 'mulScalar', [x], [], (g) => [mapUnary('mulScalar', g, s)]);
}

export function square(x: Tensor): Tensor {
  return record(mapUnary('square', x), 'square', [x], [x], (g, [x]) => {
    const twoX = mapUnary('mulScalar', x!, 2);
    const r = mapBinary('mul', g, twoX);
    twoX.dispose();
    return [r];
  });
}

// ── binary ops with broadcasting; gradients are summed back to each operand's shape ──────────

export function add(a: Tensor, b: Tensor): Tensor {
  return record(mapBinary('add', a, b), 'add', [a, b], [], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(mapBinary('sub', a, b), 'sub', [a, b], [], (g) => [sumTo(g, a.shape), sumToOwned(mapUnary('neg', g), b.shape)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(mapBinary('mul', a, b), 'mul', [a, b], [a, b], (g, [a, b], needs) => [
    needs[0] ? sumToOwned(mapBinary('mul', g, b!), a!.shape) : null,
    needs[1] ? sumToOwned(mapBinary('mul', g, a!), b!.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return record(mapBinary('div', a, b), 'div', [a, b], [a, b], (g, [a, b], needs) => {
    const ga = needs[0] ? sumToOwned(mapBinary('div', g, b!), a!.shape) : null;
    let gb: Tensor | null = null;
    if (needs[1]) {
      // d(a/b)/db = -a / b²
      const q = mapBinary('div', a!, b!);
      const qb = mapBinary('div', q, b!);
      q.dispose();
      const t = mapBinary('mul', g, qb);
      qb.dispose();
      gb = sumToOwned(mapUnaryOwned('neg', t), b!.shape);
    }
    return [ga, gb];
  });
}

/** Element-wise maximum; where a == b the gradient goes to a (as PyTorch's first-operand choice). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return record(mapBinary('maximum', a, b), 'maximum', [a, b], [a, b], (g, [a, b]) => {
    const maskA = mapBinary('greaterEqualMask', a!, b!);
    const ga = mapBinary('mul', g, maskA);
    // 1 - maskA broadcast to the output shape
    const maskB = mapUnaryOwned('addScalar', mapUnaryOwned('neg', maskA), 1);
    const gb = mapBinary('mul', g, maskB);
    maskB.dispose();
    return [sumToOwned(ga, a!.shape), sumToOwned(gb, b!.shape)];
  });
}

function sumToOwned(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}

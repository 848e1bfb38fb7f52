import { defineKernel, linearIndex, linearWorkgroups } from '../kernel.js';

/** Element-wise kernels. One invocation handles a few vec4s where shapes allow (lavapipe likes vec4). */
export const ELEMENTWISE_WG = 64;
export const MAX_RANK = 8;

/** WGSL expressions of the unary ops; `x` is the input value. */
export const UNARY_EXPR = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  relu: 'max(x, 0.0)',
  sigmoid: '1.0 / (1.0 + exp(-x))',
  tanh: 'tanh(x)',
  abs: 'abs(x)',
  square: 'x * x',
  reciprocal: '1.0 / x',
  /** used by scalar ops: `a` is the uniform scalar */
  addScalar: 'x + u.a',
  mulScalar: 'x * u.a',
  powScalar: 'pow(x, u.a)',
  /** relu'(x) as a 0/1 mask */
  step: 'select(0.0, 1.0, x > 0.0)',
} as const;
export type UnaryOp = keyof typeof UNARY_EXPR;

/** WGSL expressions of the binary ops on `a`, `b`. */
export const BINARY_EXPR = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
  /** gradient helpers */
  greaterMask: 'select(0.0, 1.0, a > b)',
  greaterEqualMask: 'select(0.0, 1.0, a >= b)',
  reluBackward: 'select(0.0, b, a > 0.0)',
} as const;
export type BinaryOp = keyof typeof BINARY_EXPR;

const usesScalar = (op: UnaryOp) => op === 'addScalar' || op === 'mulScalar' || op === 'powScalar';

/** y = f(x) over n floats, four at a time (`n4` = ceil(n/4) vec4s; buffers are padded to 16 bytes). */
export const unaryKernel = defineKernel<{ op: UnaryOp }>({
  name: 'unary',
  bindings: () => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: (p) => [{ name: 'n4', type: 'u32' }, ...(usesScalar(p.op) ? [{ name: 'a', type: 'f32' as const }] : [])],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  prelude: (p) => `fn f(x: f32) -> f32 { return ${UNARY_EXPR[p.op]}; }
fn f4(v: vec4<f32>) -> vec4<f32> { return vec4<f32>(f(v.x), f(v.y), f(v.z), f(v.w)); }`,
  body: () => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n4) { return; }
  ys[i] = f4(xs[i]);`,
});

/** ys[i] = value, four at a time. */
export const fillKernel = defineKernel<{ type: 'f32' | 'i32' }>({
  name: 'fill',
  bindings: (p) => [{ name: 'ys', type: p.type === 'f32' ? 'vec4<f32>' : 'i32', access: 'read_write' }],
  uniforms: (p) => [{ name: 'n4', type: 'u32' }, { name: 'value', type: p.type }],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  body: (p) => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n4) { return; }
  ys[i] = ${p.type === 'f32' ? 'vec4<f32>(u.value)' : 'u.value'};`,
});

/** c = a ∘ b for tensors of the same shape, vec4 at a time. */
export const binarySameShapeKernel = defineKernel<{ op: BinaryOp }>({
  name: 'binary_same',
  bindings: () => [
    { name: 'as_', type: 'vec4<f32>', access: 'read' },
    { name: 'bs', type: 'vec4<f32>', access: 'read' },
    { name: 'cs', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'n4', type: 'u32' }],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  prelude: (p) => `fn f(a: f32, b: f32) -> f32 { return ${BINARY_EXPR[p.op]}; }
fn f4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w)); }`,
  body: () => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n4) { return; }
  cs[i] = f4(as_[i], bs[i]);`,
});

/**
 * c = a ∘ b with NumPy broadcasting: the output index is decomposed with `outShape` and each
 * operand is read through its strides, 0 on broadcast axes.
 */
export const binaryBroadcastKernel = defineKernel<{ op: BinaryOp }>({
  name: 'binary_broadcast',
  bindings: () => [
    { name: 'as_', type: 'f32', access: 'read' },
    { name: 'bs', type: 'f32', access: 'read' },
    { name: 'cs', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'outShape', type: 'u32array', length: MAX_RANK },
    { name: 'aStrides', type: 'u32array', length: MAX_RANK },
    { name: 'bStrides', type: 'u32array', length: MAX_RANK },
    { name: 'n', type: 'u32' },
    { name: 'rank', type: 'u32' },
  ],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  prelude: (p) => `fn f(a: f32, b: f32) -> f32 { return ${BINARY_EXPR[p.op]}; }`,
  body: () => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = outShape(u32(d));
    let c = rest % dim;
    rest = rest / dim;
    ia += c * aStrides(u32(d));
    ib += c * bStrides(u32(d));
  }
  cs[i] = f(as_[ia], bs[ib]);`,
});

/** ys = xs broadcast to `outShape` (xs read through `xStrides`, 0 on broadcast axes). */
export const broadcastToKernel = defineKernel<Record<string, never>>({
  name: 'broadcast_to',
  bindings: () => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'ys', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'outShape', type: 'u32array', length: MAX_RANK },
    { name: 'xStrides', type: 'u32array', length: MAX_RANK },
    { name: 'n', type: 'u32' },
    { name: 'rank', type: 'u32' },
  ],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  body: () => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
  var rest = i;
  var ix = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = outShape(u32(d));
    ix += (rest % dim) * xStrides(u32(d));
    rest = rest / dim;
  }
  ys[i] = xs[ix];`,
});

export { linearWorkgroups };

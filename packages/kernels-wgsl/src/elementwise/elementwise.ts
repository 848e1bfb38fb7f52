import { defineKernel, linearIndex, linearWorkgroups } from '../kernel.js';

/** Element-wise kernels. One invocation handles a few vec4s where shapes allow (lavapipe likes vec4). */
export const ELEMENTWISE_WG = 64;
export const MAX_RANK = 8;

/**
 * WGSL: from output element `i` (row-major over `outShape`), the offset `i<name>` of each operand
 * read through its `<name>Strides` (0 on broadcast axes).
 */
export function broadcastOffsets(operands: readonly string[]): string {
  return `
  var rest = i;
${operands.map((o) => `  var i${o} = 0u;`).join('\n')}
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = outShape(u32(d));
    let c = rest % dim;
    rest = rest / dim;
${operands.map((o) => `    i${o} += c * ${o}Strides(u32(d));`).join('\n')}
  }`;
}

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
  /** x·Φ(x), Φ from erf (PyTorch's exact GELU) */
  gelu: '0.5 * x * (1.0 + erf_(x * 0.70710678118654752))',
  /** d gelu / dx = Φ(x) + x·φ(x) */
  geluGrad: '0.5 * (1.0 + erf_(x * 0.70710678118654752)) + x * 0.39894228040143268 * exp(-0.5 * x * x)',
  /** the tanh approximation of GELU */
  geluTanh: '0.5 * x * (1.0 + tanh_(0.79788456080286536 * (x + 0.044715 * x * x * x)))',
  geluTanhGrad: 'gelu_tanh_grad(x)',
  silu: 'x / (1.0 + exp(-x))',
  /** d silu / dx = s·(1 + x·(1 − s)), s = sigmoid(x) */
  siluGrad: 'silu_grad(x)',
  /** `a` is the negative slope */
  leakyRelu: 'select(x * u.a, x, x > 0.0)',
  leakyReluGrad: 'select(u.a, 1.0, x > 0.0)',
  /** clamp to [a, b] (±3.4e38 stand for an absent bound) */
  clamp: 'min(max(x, u.a), u.b)',
  /** clamp's gradient mask: 1 inside [a, b], as PyTorch */
  clampMask: 'select(0.0, 1.0, x >= u.a && x <= u.b)',
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

/** How many uniform scalars (`a`, then `b`) each op reads. */
const scalarCount = (op: UnaryOp): number =>
  (op === 'clamp' || op === 'clampMask' ? 2 : op === 'addScalar' || op === 'mulScalar' || op === 'powScalar' || op === 'leakyRelu' || op === 'leakyReluGrad' ? 1 : 0);

/**
 * WGSL helpers of the unary ops. WGSL has no erf: Abramowitz & Stegun 7.1.26 has an absolute error
 * under 1.5e-7, below float32's resolution near 1. tanh_ clamps its argument because some drivers
 * compute tanh through exp and return NaN for large |x|.
 */
const UNARY_HELPERS = `fn erf_(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(z));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(z) * (1.0 - poly * exp(-z * z));
}
fn tanh_(z: f32) -> f32 { return tanh(clamp(z, -15.0, 15.0)); }
fn gelu_tanh_grad(x: f32) -> f32 {
  let t = tanh_(0.79788456080286536 * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.79788456080286536 * (1.0 + 0.134145 * x * x);
}
fn silu_grad(x: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-x));
  return s * (1.0 + x * (1.0 - s));
}`;

/** y = f(x) over n floats, four at a time (`n4` = ceil(n/4) vec4s; buffers are padded to 16 bytes). */
export const unaryKernel = defineKernel<{ op: UnaryOp }>({
  name: 'unary',
  bindings: () => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: (p) => [{ name: 'n4', type: 'u32' }, ...(['a', 'b'] as const).slice(0, scalarCount(p.op)).map((name) => ({ name, type: 'f32' as const }))],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  prelude: (p) => `${UNARY_HELPERS}
fn f(x: f32) -> f32 { return ${UNARY_EXPR[p.op]}; }
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
${broadcastOffsets(['a', 'b'])}
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
${broadcastOffsets(['x'])}
  ys[i] = xs[ix];`,
});

export { linearWorkgroups };

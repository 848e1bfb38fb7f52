import { defineKernel, linearWorkgroupIndex, linearWorkgroups } from '../kernel.js';

/**
 * Fused optimizer updates: one dispatch reads a parameter and its gradient, updates the
 * parameter and its optimizer state in place. Per-step scalars (learning rate, bias corrections)
 * are uniforms, so one pipeline serves every parameter and every step.
 *
 * Work layout: each invocation updates OPTIM_VEC4_PER_INVOCATION vec4s; within a workgroup they are
 * strided by the workgroup size so neighbouring invocations touch neighbouring memory (vector
 * lanes on lavapipe, coalesced accesses on a discrete GPU). Buffers are padded to 16 bytes, so the
 * last vec4 may carry up to three padding lanes: they are updated too and never read as values.
 */
export const OPTIM_WG = 64;
export const OPTIM_VEC4_PER_INVOCATION = 4;

const VEC4_PER_WORKGROUP = OPTIM_WG * OPTIM_VEC4_PER_INVOCATION;

/** How many workgroups cover a parameter of `size` floats. */
export function optimWorkgroupCount(size: number): number {
  return Math.ceil(Math.ceil(size / 4) / VEC4_PER_WORKGROUP);
}

/** The dispatch grid of `count` workgroups laid end to end (read back with linearWorkgroupIndex). */
export function optimGrid(count: number): [number, number, number] {
  return linearWorkgroups(count * VEC4_PER_WORKGROUP, VEC4_PER_WORKGROUP);
}

/** Workgroups for a parameter of `size` floats. */
export function optimWorkgroups(size: number): [number, number, number] {
  return optimGrid(optimWorkgroupCount(size));
}

/**
 * Loops `body` over this invocation's vec4 indices `i` (< `count`) of a parameter whose workgroups
 * this one is `workgroup`-th of (WGSL expressions; by default the dispatch's only parameter).
 */
function forEachVec4(body: string, workgroup: string = linearWorkgroupIndex, count = 'u.n4'): string {
  return `
  let first = ${workgroup} * ${VEC4_PER_WORKGROUP}u + lid.x;
  for (var k = 0u; k < ${OPTIM_VEC4_PER_INVOCATION}u; k++) {
    let i = first + k * ${OPTIM_WG}u;
    if (i >= ${count}) { return; }
${body}
  }`;
}

export interface SgdKernelParams {
  /** keeps a momentum buffer (momentum ≠ 0) */
  momentum: boolean;
  nesterov: boolean;
}

/**
 * PyTorch SGD: d = g + weightDecay·p; with momentum, buf = d on the first step and
 * momentum·buf + (1 − dampening)·d afterwards, then d = nesterov ? d + momentum·buf : buf;
 * finally p −= lr·d.
 */
export const sgdStepKernel = defineKernel<SgdKernelParams>({
  name: 'sgd_step',
  bindings: (p) => [
    { name: 'params', type: 'vec4<f32>', access: 'read_write' },
    { name: 'grads', type: 'vec4<f32>', access: 'read' },
    ...(p.momentum ? [{ name: 'momentumBuf', type: 'vec4<f32>' as const, access: 'read_write' as const }] : []),
  ],
  uniforms: (p) => [
    { name: 'n4', type: 'u32' },
    { name: 'lr', type: 'f32' },
    { name: 'weightDecay', type: 'f32' },
    ...(p.momentum
      ? [{ name: 'momentum', type: 'f32' as const }, { name: 'dampening', type: 'f32' as const }, { name: 'firstStep', type: 'u32' as const }]
      : []),
  ],
  workgroupSize: () => [OPTIM_WG, 1, 1],
  body: (p) => forEachVec4(`
    let p = params[i];
    var d = grads[i] + u.weightDecay * p;
    ${p.momentum ? `let buf = select(u.momentum * momentumBuf[i] + (1.0 - u.dampening) * d, d, u.firstStep != 0u);
    momentumBuf[i] = buf;
    d = ${p.nesterov ? 'd + u.momentum * buf' : 'buf'};` : ''}
    params[i] = p - u.lr * d;`),
});

/** Storage buffers each parameter takes in an Adam dispatch: parameter, gradient, both moments. */
export const ADAM_BUFFERS_PER_TENSOR = 4;
/**
 * Parameters one Adam dispatch updates at most: past four, with 16 storage buffers per stage
 * (lavapipe, NVIDIA), the dispatches saved are few.
 */
export const ADAM_TENSORS_PER_DISPATCH = 4;

/**
 * Parameters one Adam dispatch can update on a device with `maxStorageBuffersPerShaderStage`
 * (WebGPU's default 8: two; SwiftShader's 10: two; Dawn on lavapipe or NVIDIA, 16: four).
 */
export function adamTensorsPerDispatch(maxStorageBuffersPerShaderStage: number): number {
  return Math.max(1, Math.min(ADAM_TENSORS_PER_DISPATCH, Math.floor(maxStorageBuffersPerShaderStage / ADAM_BUFFERS_PER_TENSOR)));
}

export interface AdamKernelParams {
  /** parameters updated by this dispatch (1 … adamTensorsPerDispatch(the device's limit)) */
  tensors: number;
}

/**
 * PyTorch Adam / AdamW (amsgrad off): g = grad + l2·p (Adam's coupled weight decay), then
 * p ← p·decay (AdamW's decoupled decay, 1 − lr·weightDecay), m ← β1·m + (1 − β1)·g,
 * v ← β2·v + (1 − β2)·g², p ← p − stepSize·m / (√v / bc2Sqrt + ε) with stepSize = lr / (1 − β1^t)
 * and bc2Sqrt = √(1 − β2^t) computed on the CPU in double precision, as PyTorch does.
 *
 * One dispatch updates as many parameters of the same step count as the device's storage buffers allow: the
 * workgroups are laid end to end, `ends(t)` being where parameter t's stop. Most of a CNN's
 * parameters are batch-norm scales and shifts of a few hundred floats, and on lavapipe each
 * dispatch costs ~40 µs however small (SqueezeNet: 52 dispatches of which 46 under 0.25 ms).
 */
export const adamStepKernel = defineKernel<AdamKernelParams>({
  name: 'adam_step',
  bindings: (p) => Array.from({ length: p.tensors }, (_, t) => [
    { name: `params${t}`, type: 'vec4<f32>' as const, access: 'read_write' as const },
    { name: `grads${t}`, type: 'vec4<f32>' as const, access: 'read' as const },
    { name: `expAvg${t}`, type: 'vec4<f32>' as const, access: 'read_write' as const },
    { name: `expAvgSq${t}`, type: 'vec4<f32>' as const, access: 'read_write' as const },
  ]).flat(),
  uniforms: (p) => [
    { name: 'n4', type: 'u32array', length: p.tensors },
    { name: 'ends', type: 'u32array', length: p.tensors },
    { name: 'l2', type: 'f32' },
    { name: 'decay', type: 'f32' },
    { name: 'beta1', type: 'f32' },
    { name: 'beta2', type: 'f32' },
    { name: 'stepSize', type: 'f32' },
    { name: 'bc2Sqrt', type: 'f32' },
    { name: 'eps', type: 'f32' },
  ],
  workgroupSize: () => [OPTIM_WG, 1, 1],
  body: (p) => {
    // Parameter t's workgroups start where t − 1's end; past its last vec4 the invocation is done.
    const update = (t: number) => forEachVec4(`
    let p0 = params${t}[i];
    let g = grads${t}[i] + u.l2 * p0;
    let m = u.beta1 * expAvg${t}[i] + (1.0 - u.beta1) * g;
    let v = u.beta2 * expAvgSq${t}[i] + (1.0 - u.beta2) * g * g;
    expAvg${t}[i] = m;
    expAvgSq${t}[i] = v;
    params${t}[i] = p0 * u.decay - u.stepSize * m / (sqrt(v) / u.bc2Sqrt + u.eps);`,
    `(w - ${t === 0 ? '0u' : `ends(${t - 1}u)`})`, `n4(${t}u)`);
    return `
  let w = ${linearWorkgroupIndex};
  ${Array.from({ length: p.tensors }, (_, t) => `if (w < ends(${t}u)) {${update(t)}
  }`).join(' else ')}`;
  },
});

import { defineKernel, linearWorkgroupIndex, linearWorkgroups } from '../kernel.js';

/**
 * Fused optimizer updates: one dispatch reads parameters and their gradients and updates the
 * parameters and their optimizer state in place — every parameter of a model at once, laid end to
 * end in flat buffers. Per-step scalars (learning rate, bias corrections) are uniforms, so one
 * pipeline serves every step.
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

/** Loops `body` over this invocation's vec4 indices `i` (< u.n4). */
function forEachVec4(body: string): string {
  return `
  let first = ${linearWorkgroupIndex} * ${VEC4_PER_WORKGROUP}u + lid.x;
  for (var k = 0u; k < ${OPTIM_VEC4_PER_INVOCATION}u; k++) {
    let i = first + k * ${OPTIM_WG}u;
    if (i >= u.n4) { return; }
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

/**
 * PyTorch Adam / AdamW (amsgrad off): g = grad + l2·p (Adam's coupled weight decay), then
 * p ← p·decay (AdamW's decoupled decay, 1 − lr·weightDecay), m ← β1·m + (1 − β1)·g,
 * v ← β2·v + (1 − β2)·g², p ← p − stepSize·m / (√v / bc2Sqrt + ε) with stepSize = lr / (1 − β1^t)
 * and bc2Sqrt = √(1 − β2^t) computed on the CPU in double precision, as PyTorch does.
 *
 * The optimizer keeps all parameters, gradients and moments in four flat buffers (core's
 * optim/flat.ts), so one dispatch of four storage buffers updates every parameter whatever the
 * device's storage-buffer limit (WebGPU's default is 8).
 */
export const adamStepKernel = defineKernel<Record<string, never>>({
  name: 'adam_step',
  bindings: () => [
    { name: 'params', type: 'vec4<f32>', access: 'read_write' },
    { name: 'grads', type: 'vec4<f32>', access: 'read' },
    { name: 'expAvg', type: 'vec4<f32>', access: 'read_write' },
    { name: 'expAvgSq', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'n4', type: 'u32' },
    { name: 'l2', type: 'f32' },
    { name: 'decay', type: 'f32' },
    { name: 'beta1', type: 'f32' },
    { name: 'beta2', type: 'f32' },
    { name: 'stepSize', type: 'f32' },
    { name: 'bc2Sqrt', type: 'f32' },
    { name: 'eps', type: 'f32' },
  ],
  workgroupSize: () => [OPTIM_WG, 1, 1],
  body: () => forEachVec4(`
    let p0 = params[i];
    let g = grads[i] + u.l2 * p0;
    let m = u.beta1 * expAvg[i] + (1.0 - u.beta1) * g;
    let v = u.beta2 * expAvgSq[i] + (1.0 - u.beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    params[i] = p0 * u.decay - u.stepSize * m / (sqrt(v) / u.bc2Sqrt + u.eps);`),
});

import assert from 'node:assert/strict';
import { Adam } from './adam.js';
import { SGD } from './sgd.js';
import type { Optimizer } from './optimizer.js';
import { adamStepRef, sgdStepRef, type AdamRefState, type SgdRefState } from './reference.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, randomValues } from '../testing/check.js';
import { getRuntime } from '../runtime/global.js';
import type { Runtime } from '../runtime/runtime.js';
import { SLOT_ALIGN_FLOATS } from './flat.js';
import { mulScalar } from '../ops/elementwise/elementwise.js';

/**
 * The optimizers keep parameters, gradients and state in flat buffers, so one dispatch of at most
 * four storage buffers updates every parameter: whatever maxStorageBuffersPerShaderStage (4, WebGPU's
 * default 8, SwiftShader's 10, Dawn's 16; lowered on the runtime's description, never raised past
 * the device's own), a step is one dispatch, and the values match the float64 reference.
 */
describe('one-dispatch optimizer step under storage-buffer limits', () => {
  const shapes = [[3, 5], [7], [1], [2, 700], [5, 3], [33, 90], [4], [65]];
  const opts = { lr: 0.01, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, decoupled: false };
  const rt = () => getRuntime();

  /** Runs `fn` counting the optimizer kernels it dispatches, and the storage buffers each binds. */
  function optimizerDispatches(fn: () => void): number[] {
    const runtime: Runtime = rt();
    const run = runtime.run;
    const buffers: number[] = [];
    runtime.run = ((kernel, p, bindings, ...rest) => {
      if (kernel.name === 'adam_step' || kernel.name === 'sgd_step') buffers.push(bindings.length);
      return run.call(runtime, kernel, p, bindings, ...rest);
    }) as typeof run;
    try { fn(); } finally { runtime.run = run; }
    return buffers;
  }

  for (const limit of [4, 8, 10, 16]) {
    it(`maxStorageBuffersPerShaderStage ${limit}: one Adam dispatch per step over ${shapes.length} parameters, values as the float64 reference`, async function () {
      const d = rt().description.limits;
      if (limit > d.maxStorageBuffersPerShaderStage) this.skip(); // the device itself allows fewer
      const saved = d.maxStorageBuffersPerShaderStage;
      d.maxStorageBuffersPerShaderStage = limit;
      const values = shapes.map((s, k) => randomValues(s.reduce((a, b) => a * b, 1), 10 + k, -2, 2));
      const params = values.map((v, k) => tensor(Float32Array.from(v), shapes[k]).requireGrad());
      const opt = new Adam(params, { lr: opts.lr });
      const ref = values.map((v) => ({ p: Float64Array.from(v), state: { step: 0, expAvg: new Float64Array(v.length), expAvgSq: new Float64Array(v.length) } as AdamRefState }));
      const perStep: number[][] = [];
      try {
        for (let step = 1; step <= 3; step++) {
          params.forEach((p, k) => {
            const g = randomValues(p.size, 100 * step + k, -1, 1);
            p.grad = tensor(Float32Array.from(g), p.shape);
            adamStepRef(ref[k]!.p, g, ref[k]!.state, opts);
          });
          perStep.push(optimizerDispatches(() => opt.step()));
          opt.zeroGrad();
        }
      } finally {
        d.maxStorageBuffersPerShaderStage = saved;
      }
      assert.deepEqual(perStep, [[4], [4], [4]], 'one dispatch of four storage buffers per step');
      for (const [k, p] of params.entries()) expectClose(await p.data(), ref[k]!.p, { atol: 2e-6, rtol: 2e-5 }, `param ${k}`);
      // The state tensors are slots of the flat state buffers, at aligned offsets.
      for (const [name, st] of Object.entries(opt.stateDict().state)) {
        for (const t of Object.values(st)) assert.equal(t.byteOffset % (SLOT_ALIGN_FLOATS * 4), 0, `${name} state offset`);
      }
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }

  it('parameters live in slots of one buffer at aligned offsets, and kernels read them there', async () => {
    const values = shapes.map((s, k) => randomValues(s.reduce((a, b) => a * b, 1), 50 + k, -2, 2));
    const params = values.map((v, k) => tensor(Float32Array.from(v), shapes[k]).requireGrad());
    const opt = new SGD(params, { lr: 0.1 });
    params.forEach((p) => { p.grad = tensor(new Float32Array(p.size), p.shape); });
    opt.step(); // zero gradients: the values stay
    opt.zeroGrad();
    assert.equal(new Set(params.map((p) => p.buffer)).size, 1, 'one buffer');
    const offsets = params.map((p) => p.byteOffset);
    assert.ok(offsets.every((o) => o % 256 === 0), `offsets ${offsets}`);
    assert.ok(offsets.slice(1).every((o, k) => o >= offsets[k]! + params[k]!.byteLength), 'slots do not overlap');
    for (const [k, p] of params.entries()) {
      expectClose(await p.data(), Float32Array.from(values[k]!), { atol: 0, rtol: 0 }, `param ${k} read back from its slot`);
      // A kernel binds the parameter at its offset: p · 2 through an element-wise kernel.
      const twice = p.view(p.shape);
      const y = mulScalar(twice, 2);
      expectClose(await y.data(), Array.from(values[k]!, (v) => 2 * v), { atol: 1e-6, rtol: 1e-6 }, `2 · param ${k}`);
      y.dispose();
      twice.dispose();
    }
    opt.dispose();
    // The parameters outlive the optimizer's flat buffers.
    expectClose(await params[3]!.data(), Float32Array.from(values[3]!), { atol: 0, rtol: 0 }, 'param 3 after dispose');
    for (const p of params) p.dispose();
  });

  it('a parameter moved off its slot (another optimizer over it) is moved back before the update', async () => {
    const v = randomValues(10, 7, -1, 1);
    const g = randomValues(10, 8, -1, 1);
    const p = tensor(Float32Array.from(v), [10]).requireGrad();
    const first = new SGD([p], { lr: 0.5 });
    const second: Optimizer = new SGD([p], { lr: 0.25 });
    const ref = Float64Array.from(v);
    const sgdOpts = { lr: 0.5, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 };
    for (const [opt, lr] of [[first, 0.5], [second, 0.25], [first, 0.5]] as const) {
      p.grad = tensor(Float32Array.from(g), [10]);
      opt.step();
      opt.zeroGrad();
      sgdStepRef(ref, g, { momentumBuffer: null } as SgdRefState, { ...sgdOpts, lr });
    }
    expectClose(await p.data(), ref, { atol: 1e-6, rtol: 1e-6 }, 'three updates by two optimizers');
    first.dispose();
    second.dispose();
    p.dispose();
  });
});

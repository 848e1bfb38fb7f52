import { SGD, type SgdOptions } from './sgd.js';
import { Adam, AdamW, type AdamOptions } from './adam.js';
import type { Optimizer, OptimizerStateDict } from './optimizer.js';
import { sgdStepRef, adamStepRef, type SgdRefState, type AdamRefState } from './reference.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, randomValues } from '../testing/check.js';
import type { Tensor } from '../tensor.js';
import assert from 'node:assert/strict';
import { getRuntime } from '../runtime/global.js';
import { tidy } from '../memory.js';

// Sizes not divisible by 4, a single element, ones spanning several workgroups. A parameter skipped
// on one step splits the flat update into ranges then (and, its step count behind, afterwards).
const shapes = [[3, 5], [7], [1], [2, 700], [5, 3], [33, 90], [4], [600]];
const STEPS = 5;
// Parameter 1 gets no gradient on this step: it must be skipped (and its step count not advance).
const SKIP = { param: 1, step: 2 };
const tol = { atol: 2e-6, rtol: 2e-5 };

const initialValues = (): Float64Array[] => shapes.map((s, k) => randomValues(s.reduce((a, b) => a * b, 1), 100 + k, -2, 2));
const gradient = (param: number, step: number): Float64Array | null =>
  param === SKIP.param && step === SKIP.step ? null : randomValues(shapes[param]!.reduce((a, b) => a * b, 1), 1000 * step + param, -1.5, 1.5);

function makeParams(values: ArrayLike<number>[]): Tensor[] {
  return values.map((v, k) => tensor(Float32Array.from(v), shapes[k]).requireGrad());
}

/** Sets the gradients of `step` and updates. */
function gpuStep(opt: Optimizer, params: Tensor[], step: number): void {
  params.forEach((p, k) => {
    const g = gradient(k, step);
    p.grad = g ? tensor(Float32Array.from(g), p.shape) : null;
  });
  opt.step();
  opt.zeroGrad();
}

async function hostState(dict: OptimizerStateDict): Promise<OptimizerStateDict<{ shape: readonly number[]; data: Float32Array }>> {
  const state: Record<string, Record<string, { shape: readonly number[]; data: Float32Array }>> = {};
  for (const [name, tensors] of Object.entries(dict.state)) {
    state[name] = {};
    for (const [k, t] of Object.entries(tensors)) state[name][k] = { shape: t.shape, data: (await t.data()) as Float32Array };
  }
  return { step: dict.step, state, paramSteps: { ...dict.paramSteps } };
}

const sgdCases: SgdOptions[] = [
  { lr: 0.1 },
  { lr: 0.1, momentum: 0.9 },
  { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 },
  { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.05 },
];
const adamCases: Array<{ opts: AdamOptions; decoupled: boolean }> = [
  { opts: { lr: 0.01 }, decoupled: false },
  { opts: { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.1 }, decoupled: false },
  { opts: { lr: 0.01, weightDecay: 0.1 }, decoupled: true },
  { opts: { lr: 0.02, eps: 1e-3, betas: [0.5, 0.9] }, decoupled: true },
];

describe('optimizers', () => {
  for (const opts of sgdCases) {
    it(`SGD ${JSON.stringify(opts)} follows PyTorch's algorithm over ${STEPS} steps`, async () => {
      const ref = initialValues();
      const refState: SgdRefState[] = ref.map(() => ({ momentumBuffer: null }));
      const params = makeParams(ref);
      const opt = new SGD(params, opts);
      const full = { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...opts };
      for (let step = 0; step < STEPS; step++) {
        gpuStep(opt, params, step);
        ref.forEach((p, k) => { const g = gradient(k, step); if (g) sgdStepRef(p, g, refState[k]!, full); });
      }
      for (const [k, p] of params.entries()) {
        expectClose(await p.data(), ref[k]!, tol, `SGD param ${k}`);
        const buf = opt.stateDict().state[String(k)]!['momentum_buffer'];
        if (full.momentum !== 0) expectClose(await buf!.data(), refState[k]!.momentumBuffer!, tol, `SGD momentum buffer ${k}`);
        else if (buf) throw new Error('SGD without momentum keeps no buffer');
      }
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }

  for (const { opts, decoupled } of adamCases) {
    const name = decoupled ? 'AdamW' : 'Adam';
    it(`${name} ${JSON.stringify(opts)} follows PyTorch's algorithm over ${STEPS} steps`, async () => {
      const ref = initialValues();
      const refState: AdamRefState[] = ref.map((p) => ({ step: 0, expAvg: new Float64Array(p.length), expAvgSq: new Float64Array(p.length) }));
      const params = makeParams(ref);
      const opt = decoupled ? new AdamW(params, opts) : new Adam(params, opts);
      const full = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, ...opts, decoupled };
      for (let step = 0; step < STEPS; step++) {
        gpuStep(opt, params, step);
        ref.forEach((p, k) => { const g = gradient(k, step); if (g) adamStepRef(p, g, refState[k]!, full); });
      }
      const dict = opt.stateDict();
      if (dict.step !== STEPS || dict.paramSteps[String(SKIP.param)] !== STEPS - 1) {
        throw new Error(`step counts: ${dict.step}, ${JSON.stringify(dict.paramSteps)}`);
      }
      for (const [k, p] of params.entries()) {
        expectClose(await p.data(), ref[k]!, tol, `${name} param ${k}`);
        expectClose(await dict.state[String(k)]!['exp_avg']!.data(), refState[k]!.expAvg, tol, `${name} exp_avg ${k}`);
        expectClose(await dict.state[String(k)]!['exp_avg_sq']!.data(), refState[k]!.expAvgSq, tol, `${name} exp_avg_sq ${k}`);
      }
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }

  it('recordForPipelineWarmup records the kernels a step dispatches, and changes no count, state or parameter', async () => {
    const rt = getRuntime();
    const values = initialValues();
    const params = makeParams(values);
    const opt = new Adam(params, { lr: 0.01 });
    // The kernels (name and pipeline parameters) `run` is asked for while `record` runs.
    const kernelsOf = (record: () => void): string[] => {
      const run = rt.run;
      const seen: string[] = [];
      rt.run = ((kernel, p, ...rest) => { seen.push(kernel.key(p)); return run.call(rt, kernel, p, ...rest); }) as typeof rt.run;
      try { record(); } finally { rt.run = run; }
      return seen;
    };
    params.forEach((p, k) => { p.grad = tensor(Float32Array.from(gradient(k, 0)!), p.shape); });
    let warmed: string[] = [];
    await rt.warmPipelines(() => tidy(() => { warmed = kernelsOf(() => opt.recordForPipelineWarmup()); }));
    assert.equal(opt.stepCount, 0);
    assert.deepEqual(Object.keys(opt.stateDict().state), []);
    for (const [k, p] of params.entries()) expectClose(await p.data(), values[k]!, { atol: 0, rtol: 1e-7 }, `param ${k} untouched`);
    const stepped = kernelsOf(() => opt.step());
    assert.equal(stepped.length, 1, 'a step updates every parameter in one dispatch');
    assert.deepEqual(warmed.filter((key) => key.startsWith('adam')), stepped.filter((key) => key.startsWith('adam')));
    opt.dispose();
    for (const p of params) { p.grad?.dispose(); p.dispose(); }
  });

  const makers: Record<string, (ps: Tensor[]) => Optimizer> = {
    'SGD (Nesterov)': (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
    Adam: (ps) => new Adam(ps, { lr: 0.01 }),
    AdamW: (ps) => new AdamW(ps, { lr: 0.01 }),
  };
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: a state dict exported to host data and loaded into a fresh optimizer continues identically`, async () => {
      const paramsA = makeParams(initialValues());
      const optA = make(paramsA);
      for (let step = 0; step < 3; step++) gpuStep(optA, paramsA, step);
      // A checkpoint: parameter values and optimizer state as host arrays.
      const saved = await hostState(optA.stateDict());
      const paramsB = makeParams(await Promise.all(paramsA.map(async (p) => p.data())));
      const optB = make(paramsB);
      optB.loadStateDict(saved);
      if (optB.stepCount !== 3) throw new Error(`loaded step count ${optB.stepCount}`);
      for (let step = 3; step < 6; step++) { gpuStep(optA, paramsA, step); gpuStep(optB, paramsB, step); }
      for (let k = 0; k < paramsA.length; k++) {
        expectClose(await paramsB[k]!.data(), await paramsA[k]!.data(), { atol: 0, rtol: 0 }, `${name} param ${k} after reload`);
      }
      optA.dispose(); optB.dispose();
      for (const p of [...paramsA, ...paramsB]) p.dispose();
    });
  }

  it('loadStateDict rejects wrong shapes, unknown parameters and missing state, naming the key', async () => {
    const params = makeParams(initialValues());
    const opt = new Adam(params);
    const good = { shape: shapes[0]!, data: new Float32Array(15) };
    const cases: Array<[Record<string, Record<string, { shape: number[]; data: Float32Array }>>, string]> = [
      [{ 0: { exp_avg: good, exp_avg_sq: { shape: [5, 3], data: new Float32Array(15) } } }, "'0.exp_avg_sq'"],
      [{ nope: { exp_avg: good, exp_avg_sq: good } }, "'nope'"],
      [{ 0: { exp_avg: good } }, "'0.exp_avg_sq'"],
      [{ 0: { exp_avg: good, exp_avg_sq: good, momentum_buffer: good } }, "'0.momentum_buffer'"],
    ];
    for (const [state, key] of cases) {
      let msg = '';
      try { opt.loadStateDict({ step: 1, state }); } catch (e) { msg = (e as Error).message; }
      if (!msg.includes(key)) throw new Error(`expected an error naming ${key}, got '${msg}'`);
    }
    opt.dispose();
    for (const p of params) p.dispose();
  });
});

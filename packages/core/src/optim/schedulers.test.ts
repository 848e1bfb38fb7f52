import { SGD } from './sgd.js';
import { AdamW } from './adam.js';
import { StepLR, CosineAnnealingLR, LinearLR, SequentialLR, OneCycleLR, type LRScheduler } from './schedulers.js';
import { clipGradNorm } from './clip.js';
import type { Optimizer } from './optimizer.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, randomValues } from '../testing/check.js';
import { adamStepRef, sgdStepRef } from './reference.js';

/** PyTorch's OneCycleLR phases (torch/optim/lr_scheduler.py), as [end step, start lr, end lr, start momentum, end momentum]. */
function oneCyclePhases(o: { total: number; pct: number; maxLr: number; div: number; finalDiv: number; threePhase: boolean; base: number; max: number }): number[][] {
  const initial = o.maxLr / o.div;
  const min = initial / o.finalDiv;
  return o.threePhase
    ? [[o.pct * o.total - 1, initial, o.maxLr, o.max, o.base], [2 * o.pct * o.total - 2, o.maxLr, initial, o.base, o.max], [o.total - 1, initial, min, o.max, o.max]]
    : [[o.pct * o.total - 1, initial, o.maxLr, o.max, o.base], [o.total - 1, o.maxLr, min, o.base, o.max]];
}

/** PyTorch's get_lr: the phase holding step t, annealed from its start to its end value (column `from`, `from` + 1). */
function oneCycleAt(phases: number[][], t: number, from: number, anneal: 'cos' | 'linear'): number {
  const f = anneal === 'cos' ? (a: number, b: number, x: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * x) + 1) : (a: number, b: number, x: number) => (b - a) * x + a;
  let start = 0;
  for (const [i, ph] of phases.entries()) {
    if (t <= ph[0]! || i === phases.length - 1) return f(ph[from]!, ph[from + 1]!, (t - start) / (ph[0]! - start));
    start = ph[0]!;
  }
  return NaN;
}

/** The rate each of `steps` optimizer steps used, stepping the scheduler after the optimizer as PyTorch does. */
function ratesUsed(opt: Optimizer, sched: LRScheduler, steps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    out.push(opt.lr); // optimizer.step() would use this rate
    opt.step();
    sched.step();
  }
  return out;
}

const TOL = { atol: 1e-15, rtol: 1e-12 };

describe('learning-rate schedulers', () => {
  const param = () => tensor([1, 2, 3]).requireGrad();

  it('StepLR: base·γ^⌊t/stepSize⌋', () => {
    const p = param();
    const opt = new SGD([p], { lr: 0.5 });
    expectClose(ratesUsed(opt, new StepLR(opt, 3, 0.5), 10), Array.from({ length: 10 }, (_, t) => 0.5 * 0.5 ** Math.floor(t / 3)), TOL, 'StepLR');
    p.dispose();
  });

  it('CosineAnnealingLR: ηmin + (base − ηmin)(1 + cos(πt/T))/2, also past T', () => {
    const p = param();
    const opt = new SGD([p], { lr: 0.1 });
    const want = Array.from({ length: 25 }, (_, t) => 0.001 + (0.1 - 0.001) * (1 + Math.cos((Math.PI * t) / 20)) / 2);
    expectClose(ratesUsed(opt, new CosineAnnealingLR(opt, 20, 0.001), 25), want, TOL, 'CosineAnnealingLR');
    p.dispose();
  });

  it('LinearLR warm-up then CosineAnnealingLR through SequentialLR restarts the second at the milestone', () => {
    const p = param();
    const opt = new AdamW([p], { lr: 0.01 });
    const warm = new LinearLR(opt, 0.1, 1, 4);
    const cos = new CosineAnnealingLR(opt, 6);
    const seq = new SequentialLR(opt, [warm, cos], [4]);
    const want = Array.from({ length: 10 }, (_, t) => (t < 4 ? 0.01 * (0.1 + 0.9 * (t / 4)) : 0.01 * (1 + Math.cos((Math.PI * (t - 4)) / 6)) / 2));
    expectClose(ratesUsed(opt, seq, 10), want, TOL, 'warm-up + cosine');
    if (seq.getLastLr() !== opt.lr) throw new Error('getLastLr');
    opt.dispose();
    p.dispose();
  });

  for (const threePhase of [false, true]) {
    for (const anneal of ['cos', 'linear'] as const) {
      it(`OneCycleLR (${anneal}${threePhase ? ', three phases' : ''}) follows PyTorch's phase formulas and rejects stepping past totalSteps`, () => {
        const p = param();
        const opt = new SGD([p], { lr: 123 }); // OneCycleLR sets its own initial rate
        const [maxLr, total, pct, div, finalDiv] = [0.4, 20, 0.25, 10, 100];
        const sched = new OneCycleLR(opt, maxLr, total, { pctStart: pct, annealStrategy: anneal, divFactor: div, finalDivFactor: finalDiv, threePhase });
        const initial = maxLr / div;
        const phases = oneCyclePhases({ total, pct, maxLr, div, finalDiv, threePhase, base: 0.85, max: 0.95 });
        const want = Array.from({ length: total }, (_, t) => oneCycleAt(phases, t, 1, anneal));
        const wantMomentum = Array.from({ length: total }, (_, t) => oneCycleAt(phases, t, 3, anneal));
        const [rates, momentum]: number[][] = [[], []];
        for (let t = 0; t < total; t++) {
          rates.push(opt.lr);
          momentum.push(opt.momentum);
          opt.step();
          sched.step();
        }
        expectClose(momentum, wantMomentum, TOL, 'OneCycleLR momentum (cycleMomentum, PyTorch\'s default)');
        expectClose([wantMomentum[0]!, wantMomentum[4]!, wantMomentum[total - 1]!], [0.95, 0.85, 0.95], TOL, 'momentum max → base → max');
        expectClose(rates, want, TOL, 'OneCycleLR');
        expectClose([want[0]!, want[4]!], [initial, maxLr], TOL, 'starts at maxLr/div, peaks at step pctStart·totalSteps − 1');
        // the loop left the scheduler at epoch totalSteps (allowed, as PyTorch); one more step is not
        let msg = '';
        try { sched.step(); } catch (e) { msg = (e as Error).message; }
        if (!msg.includes('totalSteps')) throw new Error(`expected an error past totalSteps, got '${msg}'`);
        if (sched.lastEpoch !== total) throw new Error('a failed step must leave the epoch as it was');
        p.dispose();
      });
    }
  }
});

describe('OneCycleLR momentum cycling', () => {
  it('AdamW steps with the cycled beta1 (beta2 untouched): parameters match the float64 reference with PyTorch\'s schedule', async () => {
    const values = randomValues(6, 901);
    const grads = Array.from({ length: 8 }, (_, k) => randomValues(6, 910 + k, -1, 1));
    const p = tensor(Float32Array.from(values)).requireGrad();
    const opt = new AdamW([p], { lr: 1, betas: [0.5, 0.99], weightDecay: 0.01 });
    const sched = new OneCycleLR(opt, 0.05, 8, { pctStart: 0.5, baseMomentum: 0.8, maxMomentum: 0.9 });
    const phases = oneCyclePhases({ total: 8, pct: 0.5, maxLr: 0.05, div: 25, finalDiv: 1e4, threePhase: false, base: 0.8, max: 0.9 });
    const ref = Float64Array.from(values);
    const state = { step: 0, expAvg: new Float64Array(6), expAvgSq: new Float64Array(6) };
    for (let t = 0; t < 8; t++) {
      const [lr, beta1] = [oneCycleAt(phases, t, 1, 'cos'), oneCycleAt(phases, t, 3, 'cos')];
      expectClose([opt.lr, opt.betas[0], opt.betas[1]], [lr, beta1, 0.99], TOL, `step ${t} lr and betas`);
      p.grad?.dispose();
      p.grad = tensor(Float32Array.from(grads[t]!));
      opt.step();
      sched.step();
      adamStepRef(ref, grads[t]!, state, { lr, betas: [beta1, 0.99], eps: 1e-8, weightDecay: 0.01, decoupled: true });
    }
    expectClose(await p.data(), ref, { atol: 1e-6, rtol: 1e-5 }, 'parameters after 8 AdamW steps');
    opt.dispose();
    p.dispose();
  });

  it('SGD built without momentum gets PyTorch\'s cycled momentum (its buffers from the first step); cycleMomentum: false leaves it alone', async () => {
    const values = randomValues(5, 930);
    const grads = Array.from({ length: 6 }, (_, k) => randomValues(5, 940 + k, -1, 1));
    const p = tensor(Float32Array.from(values)).requireGrad();
    const opt = new SGD([p], { lr: 1 });
    const sched = new OneCycleLR(opt, 0.1, 6, { annealStrategy: 'linear' });
    const phases = oneCyclePhases({ total: 6, pct: 0.3, maxLr: 0.1, div: 25, finalDiv: 1e4, threePhase: false, base: 0.85, max: 0.95 });
    const ref = Float64Array.from(values);
    const state = { momentumBuffer: null };
    for (let t = 0; t < 6; t++) {
      p.grad?.dispose();
      p.grad = tensor(Float32Array.from(grads[t]!));
      opt.step();
      sgdStepRef(ref, grads[t]!, state, { lr: oneCycleAt(phases, t, 1, 'linear'), momentum: oneCycleAt(phases, t, 3, 'linear'), dampening: 0, nesterov: false, weightDecay: 0 });
      sched.step();
    }
    expectClose(await p.data(), ref, { atol: 1e-6, rtol: 1e-5 }, 'parameters after 6 SGD steps');

    const plain = new SGD([p], { lr: 1, momentum: 0.5 });
    new OneCycleLR(plain, 0.1, 6, { cycleMomentum: false }).step();
    if (plain.momentum !== 0.5) throw new Error(`cycleMomentum: false changed the momentum to ${plain.momentum}`);
    const stepped = new SGD([p], { lr: 1 });
    stepped.step();
    let msg = '';
    try { new OneCycleLR(stepped, 0.1, 6); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes('cycleMomentum')) throw new Error(`an SGD that stepped without momentum buffers must be refused, got '${msg}'`);
    for (const o of [opt, plain, stepped]) o.dispose();
    p.dispose();
  });
});

describe('clipGradNorm', () => {
  for (const maxNorm of [0.5, 100]) {
    it(`scales the gradients to a joint L2 norm of at most ${maxNorm} and returns the norm before clipping`, async () => {
      const shapes = [[3, 4], [5], [2, 2, 2]];
      const grads = shapes.map((s, k) => randomValues(s.reduce((a, b) => a * b, 1), 800 + k, -2, 2));
      const params = shapes.map((s) => tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s).requireGrad());
      params.forEach((p, k) => { p.grad = tensor(Float32Array.from(grads[k]!), p.shape); });
      const noGradParam = tensor([1, 2]).requireGrad();
      const norm = Math.sqrt(grads.flatMap((g) => [...g]).reduce((a, v) => a + v * v, 0));
      const total = clipGradNorm([...params, noGradParam], maxNorm);
      expectClose([await total.item()], [norm], { atol: 1e-5, rtol: 1e-5 }, 'returned norm');
      const factor = Math.min(1, maxNorm / (norm + 1e-6));
      for (const [k, p] of params.entries()) expectClose(await p.grad!.data(), grads[k]!.map((v) => v * factor), { atol: 1e-6, rtol: 1e-5 }, `grad ${k}`);
      if (noGradParam.grad) throw new Error('a parameter without a gradient must stay without one');
      for (const t of [...params, noGradParam, total]) t.dispose();
    });
  }
});

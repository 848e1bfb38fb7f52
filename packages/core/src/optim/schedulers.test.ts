import { SGD } from './sgd.js';
import { AdamW } from './adam.js';
import { StepLR, CosineAnnealingLR, LinearLR, SequentialLR, OneCycleLR, type LRScheduler } from './schedulers.js';
import { clipGradNorm } from './clip.js';
import type { Optimizer } from './optimizer.js';
import { tensor } from '../ops/creation/creation.js';
import { expectClose, randomValues } from '../testing/check.js';

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
        const min = initial / finalDiv;
        const f = anneal === 'cos' ? (a: number, b: number, x: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * x) + 1) : (a: number, b: number, x: number) => (b - a) * x + a;
        const phases = threePhase
          ? [[pct * total - 1, initial, maxLr], [2 * pct * total - 2, maxLr, initial], [total - 1, initial, min]]
          : [[pct * total - 1, initial, maxLr], [total - 1, maxLr, min]];
        const want = Array.from({ length: total }, (_, t) => {
          let start = 0;
          for (const [i, [end, a, b]] of phases.entries()) {
            if (t <= end! || i === phases.length - 1) return f(a!, b!, (t - start) / (end! - start));
            start = end!;
          }
          return NaN;
        });
        expectClose(ratesUsed(opt, sched, total), want, TOL, 'OneCycleLR');
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

import type { Optimizer } from './optimizer.js';

/**
 * Learning-rate schedules with PyTorch's stepping: construction sets the epoch-0 rate, and each
 * `step()` (called after `optimizer.step()`) advances one epoch and sets `optimizer.lr`. Rates come
 * from each schedule's closed formula of the epoch and the initial rate.
 */

/** The learning rate an optimizer had before its first schedule (PyTorch's `initial_lr`). */
const initialLr = new WeakMap<Optimizer, number>();

export abstract class LRScheduler {
  /** epochs stepped so far (0 after construction). */
  lastEpoch = 0;
  readonly baseLr: number;

  constructor(readonly optimizer: Optimizer) {
    if (!initialLr.has(optimizer)) initialLr.set(optimizer, optimizer.lr);
    this.baseLr = initialLr.get(optimizer)!;
  }

  /** The rate at `epoch`. */
  abstract lrAt(epoch: number): number;

  /** Advances one epoch (or jumps to `epoch`) and sets the optimizer's rate. */
  step(epoch?: number): void {
    const next = epoch ?? this.lastEpoch + 1;
    this.optimizer.lr = this.lrAt(next);
    this.lastEpoch = next;
  }

  /** The rate the last step set (PyTorch's `get_last_lr()[0]`). */
  getLastLr(): number { return this.optimizer.lr; }

  /** Sets the epoch-0 rate; subclasses call it at the end of their constructor. */
  protected start(): void { this.optimizer.lr = this.lrAt(0); }
}

/** lr = base · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.start();
  }
  lrAt(epoch: number): number { return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize); }
}

/** lr = etaMin + (base − etaMin)·(1 + cos(π·epoch / tMax)) / 2. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    this.start();
  }
  lrAt(epoch: number): number { return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2; }
}

/**
 * Linear warm-up (PyTorch's LinearLR): the factor goes linearly from `startFactor` to `endFactor`
 * over `totalIters` epochs, then stays: lr = base·(start + (end − start)·min(epoch, totalIters)/totalIters).
 */
export class LinearLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly startFactor = 1 / 3, readonly endFactor = 1, readonly totalIters = 5) {
    super(optimizer);
    if (!(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1)) throw new Error('LinearLR: startFactor must be in (0, 1] and endFactor in [0, 1]');
    this.start();
  }
  lrAt(epoch: number): number {
    const t = this.totalIters === 0 ? 1 : Math.min(epoch, this.totalIters) / this.totalIters;
    return this.baseLr * (this.startFactor + (this.endFactor - this.startFactor) * t);
  }
}

/**
 * One schedule after another (PyTorch's SequentialLR): schedule i runs from milestone i − 1,
 * restarted at its epoch 0 there. E.g. `new SequentialLR(opt, [new LinearLR(opt, 0.01, 1, 100),
 * new CosineAnnealingLR(opt, 900)], [100])`: a 100-step warm-up, then cosine decay.
 */
export class SequentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly schedulers: readonly LRScheduler[], readonly milestones: readonly number[]) {
    super(optimizer);
    if (schedulers.length !== milestones.length + 1) throw new Error(`SequentialLR: ${schedulers.length} schedulers need ${schedulers.length - 1} milestones, got ${milestones.length}`);
    if (schedulers.some((s) => s.optimizer !== optimizer)) throw new Error('SequentialLR: every scheduler must drive the same optimizer');
    if (milestones.some((m, i) => !Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1]!))) throw new Error(`SequentialLR: milestones must be increasing positive integers, got [${milestones}]`);
    this.start();
  }
  lrAt(epoch: number): number {
    const i = this.milestones.filter((m) => m <= epoch).length;
    return this.schedulers[i]!.lrAt(epoch - (i === 0 ? 0 : this.milestones[i - 1]!));
  }
  override step(epoch?: number): void {
    super.step(epoch);
    const i = this.milestones.filter((m) => m <= this.lastEpoch).length;
    this.schedulers[i]!.lastEpoch = this.lastEpoch - (i === 0 ? 0 : this.milestones[i - 1]!);
  }
}

export interface OneCycleOptions {
  /** fraction of the steps spent increasing the rate (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** initial rate = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final rate = initial rate / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** a third phase: up, back down to the initial rate, then down to the final rate (default false). */
  threePhase?: boolean;
  /** cycle the momentum (Adam's beta1, SGD's momentum) inversely to the rate (default true, as PyTorch). */
  cycleMomentum?: boolean;
  /** the momentum at the peak rate (default 0.85). */
  baseMomentum?: number;
  /** the momentum at the initial and final rates (default 0.95). */
  maxMomentum?: number;
}

/** Where an optimizer keeps the momentum OneCycleLR cycles: Adam's (and AdamW's) beta1, SGD's momentum. */
function momentumSetter(optimizer: Optimizer): ((m: number) => void) | null {
  const o = optimizer as unknown as { betas?: readonly [number, number]; momentum?: number };
  if (Array.isArray(o.betas)) return (m) => { o.betas = [m, o.betas![1]]; };
  if (typeof o.momentum === 'number') {
    // SGD keeps momentum buffers only when built with a momentum: they are created at its first step
    if (o.momentum === 0 && optimizer.stepCount > 0) throw new Error('OneCycleLR: cycleMomentum needs an SGD with momentum (this one has stepped without); pass cycleMomentum: false or construct the schedule before the first step');
    return (m) => { o.momentum = m; };
  }
  return null;
}

interface Phase { end: number; from: number; to: number; momentumFrom: number; momentumTo: number }

/**
 * The one-cycle policy (PyTorch's OneCycleLR): the rate rises from maxLr/divFactor to maxLr over
 * pctStart of `totalSteps`, then anneals to the final rate; the momentum moves the other way,
 * from maxMomentum down to baseMomentum and back.
 */
export class OneCycleLR extends LRScheduler {
  private readonly phases: Phase[];
  private readonly anneal: (from: number, to: number, pct: number) => number;
  private readonly setMomentum: ((m: number) => void) | null;

  constructor(optimizer: Optimizer, readonly maxLr: number, readonly totalSteps: number, opts: OneCycleOptions = {}) {
    super(optimizer);
    if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`OneCycleLR: totalSteps must be a positive integer, got ${totalSteps}`);
    const pct = opts.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new Error(`OneCycleLR: pctStart must be in [0, 1], got ${pct}`);
    const [base, max] = [opts.baseMomentum ?? 0.85, opts.maxMomentum ?? 0.95];
    this.setMomentum = null;
    if (opts.cycleMomentum ?? true) {
      if (!(base >= 0 && base < 1 && max >= 0 && max < 1)) throw new Error(`OneCycleLR: baseMomentum and maxMomentum must be in [0, 1), got ${base} and ${max}`);
      this.setMomentum = momentumSetter(optimizer);
      if (!this.setMomentum) throw new Error(`OneCycleLR: ${optimizer.constructor.name} has no momentum or betas to cycle; pass cycleMomentum: false`);
    }
    const initial = maxLr / (opts.divFactor ?? 25);
    const min = initial / (opts.finalDivFactor ?? 1e4);
    const up = pct * totalSteps - 1;
    this.phases = opts.threePhase
      ? [
        { end: up, from: initial, to: maxLr, momentumFrom: max, momentumTo: base },
        { end: 2 * pct * totalSteps - 2, from: maxLr, to: initial, momentumFrom: base, momentumTo: max },
        { end: totalSteps - 1, from: initial, to: min, momentumFrom: max, momentumTo: max },
      ]
      : [
        { end: up, from: initial, to: maxLr, momentumFrom: max, momentumTo: base },
        { end: totalSteps - 1, from: maxLr, to: min, momentumFrom: base, momentumTo: max },
      ];
    this.anneal = (opts.annealStrategy ?? 'cos') === 'cos'
      ? (from, to, p) => to + ((from - to) / 2) * (1 + Math.cos(Math.PI * p))
      : (from, to, p) => (to - from) * p + from;
    this.start();
  }

  lrAt(epoch: number): number { return this.at(epoch, (ph, p) => this.anneal(ph.from, ph.to, p)); }

  /** The momentum (beta1) at `epoch`, which `step()` sets when momentum cycles. */
  momentumAt(epoch: number): number { return this.at(epoch, (ph, p) => this.anneal(ph.momentumFrom, ph.momentumTo, p)); }

  override step(epoch?: number): void {
    super.step(epoch);
    this.setMomentum?.(this.momentumAt(this.lastEpoch));
  }

  protected override start(): void {
    super.start();
    this.setMomentum?.(this.momentumAt(0));
  }

  private at(epoch: number, value: (phase: Phase, pct: number) => number): number {
    if (epoch > this.totalSteps) throw new Error(`OneCycleLR: stepped ${epoch} times, more than totalSteps (${this.totalSteps})`);
    let start = 0;
    for (const [i, ph] of this.phases.entries()) {
      if (epoch <= ph.end || i === this.phases.length - 1) return value(ph, (epoch - start) / (ph.end - start));
      start = ph.end;
    }
    throw new Error('unreachable');
  }
}

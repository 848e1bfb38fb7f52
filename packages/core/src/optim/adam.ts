import { adamStepKernel, optimWorkgroups } from '@squeeze/kernels-wgsl';
import { Optimizer, type FlatUpdate, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam with PyTorch's semantics (state `exp_avg`, `exp_avg_sq`; bias corrections from each
 * parameter's own step count). Weight decay is an L2 term added to the gradient; see AdamW.
 */
export class Adam extends Optimizer {
  lr: number;
  /** beta1 may be changed between steps (OneCycleLR cycles it). */
  betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** AdamW: weight decay multiplies the parameter by (1 − lr·weightDecay) instead. */
  protected readonly decoupledWeightDecay: boolean = false;

  constructor(params: ParamsInput, opts: AdamOptions = {}) {
    super(params);
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`${this.constructor.name}: betas must be in [0, 1), got [${this.betas}]`);
    if (this.lr < 0 || this.eps < 0 || this.weightDecay < 0) throw new Error(`${this.constructor.name}: lr, eps and weightDecay must be >= 0`);
  }

  protected stateNames(): readonly string[] { return ['exp_avg', 'exp_avg_sq']; }

  protected updateRange(u: FlatUpdate): void {
    const [beta1, beta2] = this.betas;
    const decoupled = this.decoupledWeightDecay;
    u.runtime.run(
      adamStepKernel, {}, [u.params, u.grads, u.state['exp_avg']!, u.state['exp_avg_sq']!],
      {
        n4: Math.ceil(u.length / 4),
        l2: decoupled ? 0 : this.weightDecay,
        decay: decoupled ? 1 - this.lr * this.weightDecay : 1,
        beta1, beta2,
        stepSize: this.lr / (1 - beta1 ** u.step),
        bc2Sqrt: Math.sqrt(1 - beta2 ** u.step),
        eps: this.eps,
      },
      optimWorkgroups(u.length),
    );
  }
}

/** AdamW (PyTorch): Adam with decoupled weight decay, default weightDecay 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupledWeightDecay: boolean = true;
  constructor(params: ParamsInput, opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 1e-2 });
  }
}

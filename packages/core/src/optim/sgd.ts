import { sgdStepKernel, optimWorkgroups } from '@squeeze/kernels-wgsl';
import { Optimizer, type FlatUpdate, type ParamsInput } from './optimizer.js';

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (PyTorch's coupled weight decay). */
  weightDecay?: number;
}

/** Stochastic gradient descent with PyTorch's semantics (momentum buffer `momentum_buffer`). */
export class SGD extends Optimizer {
  lr: number;
  /** may be changed between steps (OneCycleLR cycles it). */
  momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: ParamsInput, opts: SgdOptions = {}) {
    super(params);
    this.lr = opts.lr ?? 1e-3;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    if (this.lr < 0 || this.momentum < 0 || this.weightDecay < 0) throw new Error('SGD: lr, momentum and weightDecay must be >= 0');
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
  }

  protected stateNames(): readonly string[] { return this.momentum !== 0 ? ['momentum_buffer'] : []; }

  protected updateRange(u: FlatUpdate): void {
    const hasMomentum = this.momentum !== 0;
    const n4 = Math.ceil(u.length / 4);
    u.runtime.run(
      sgdStepKernel, { momentum: hasMomentum, nesterov: this.nesterov },
      hasMomentum ? [u.params, u.grads, u.state['momentum_buffer']!] : [u.params, u.grads],
      hasMomentum
        ? { n4, lr: this.lr, weightDecay: this.weightDecay, momentum: this.momentum, dampening: this.dampening, firstStep: u.step === 1 ? 1 : 0 }
        : { n4, lr: this.lr, weightDecay: this.weightDecay },
      optimWorkgroups(u.length),
    );
  }
}

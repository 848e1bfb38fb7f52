import { adamStepKernel, adamTensorsPerDispatch, optimGrid, optimWorkgroupCount } from '@squeeze/kernels-wgsl';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamUpdate, type ParamsInput } from './optimizer.js';

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

  protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void {
    this.updateAll([{ param, grad, state, step }]);
  }

  /**
   * Parameters of equal step count (they share the bias corrections) in as few dispatches as the
   * device's storage buffers per stage allow.
   */
  protected override updateAll(updates: readonly ParamUpdate[]): void {
    if (updates.length === 0) return;
    const perDispatch = adamTensorsPerDispatch(updates[0]!.param.runtime.description.limits.maxStorageBuffersPerShaderStage);
    const byStep = new Map<number, ParamUpdate[]>();
    for (const u of updates) {
      let group = byStep.get(u.step);
      if (!group) byStep.set(u.step, (group = []));
      group.push(u);
    }
    for (const [step, group] of byStep) {
      for (let i = 0; i < group.length; i += perDispatch) this.dispatch(group.slice(i, i + perDispatch), step);
    }
  }

  private dispatch(updates: readonly ParamUpdate[], step: number): void {
    const [beta1, beta2] = this.betas;
    const decoupled = this.decoupledWeightDecay;
    const ends: number[] = [];
    for (const u of updates) ends.push((ends.at(-1) ?? 0) + optimWorkgroupCount(u.param.size));
    updates[0]!.param.runtime.run(
      adamStepKernel, { tensors: updates.length },
      updates.flatMap((u) => [u.param, u.grad, u.state['exp_avg']!, u.state['exp_avg_sq']!]),
      {
        n4: updates.map((u) => Math.ceil(u.param.size / 4)),
        ends,
        l2: decoupled ? 0 : this.weightDecay,
        decay: decoupled ? 1 - this.lr * this.weightDecay : 1,
        beta1, beta2,
        stepSize: this.lr / (1 - beta1 ** step),
        bc2Sqrt: Math.sqrt(1 - beta2 ** step),
        eps: this.eps,
      },
      optimGrid(ends.at(-1)!),
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

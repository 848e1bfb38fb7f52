import { adamStepKernel, optimWorkgroups } from '@squeeze/kernels-wgsl';
import { Optimizer } from './optimizer.js';
/**
 * Adam with PyTorch's semantics (state `exp_avg`, `exp_avg_sq`; bias corrections from each
 * parameter's own step count). Weight decay is an L2 term added to the gradient; see AdamW.
 */
export class Adam extends Optimizer {
    lr;
    betas;
    eps;
    weightDecay;
    /** AdamW: weight decay multiplies the parameter by (1 − lr·weightDecay) instead. */
    decoupledWeightDecay = false;
    constructor(params, opts = {}) {
        super(params);
        this.lr = opts.lr ?? 1e-3;
        this.betas = opts.betas ?? [0.9, 0.999];
        this.eps = opts.eps ?? 1e-8;
        this.weightDecay = opts.weightDecay ?? 0;
        const [b1, b2] = this.betas;
        if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
            throw new Error(`${this.constructor.name}: betas must be in [0, 1), got [${this.betas}]`);
        if (this.lr < 0 || this.eps < 0 || this.weightDecay < 0)
            throw new Error(`${this.constructor.name}: lr, eps and weightDecay must be >= 0`);
    }
    stateNames() { return ['exp_avg', 'exp_avg_sq']; }
    update(param, grad, state, step) {
        const [beta1, beta2] = this.betas;
        const decoupled = this.decoupledWeightDecay;
        param.runtime.run(adamStepKernel, {}, [param, grad, state['exp_avg'], state['exp_avg_sq']], {
            n4: Math.ceil(param.size / 4),
            l2: decoupled ? 0 : this.weightDecay,
            decay: decoupled ? 1 - this.lr * this.weightDecay : 1,
            beta1, beta2,
            stepSize: this.lr / (1 - beta1 ** step),
            bc2Sqrt: Math.sqrt(1 - beta2 ** step),
            eps: this.eps,
        }, optimWorkgroups(param.size));
    }
}
/** AdamW (PyTorch): Adam with decoupled weight decay, default weightDecay 0.01. */
export class AdamW extends Adam {
    decoupledWeightDecay = true;
    constructor(params, opts = {}) {
        super(params, { ...opts, weightDecay: opts.weightDecay ?? 1e-2 });
    }
}
//# sourceMappingURL=adam.js.map
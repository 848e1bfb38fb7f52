import { sgdStepKernel, optimWorkgroups } from '@squeeze/kernels-wgsl';
import { Optimizer } from './optimizer.js';
/** Stochastic gradient descent with PyTorch's semantics (momentum buffer `momentum_buffer`). */
export class SGD extends Optimizer {
    lr;
    momentum;
    dampening;
    nesterov;
    weightDecay;
    constructor(params, opts = {}) {
        super(params);
        this.lr = opts.lr ?? 1e-3;
        this.momentum = opts.momentum ?? 0;
        this.dampening = opts.dampening ?? 0;
        this.nesterov = opts.nesterov ?? false;
        this.weightDecay = opts.weightDecay ?? 0;
        if (this.lr < 0 || this.momentum < 0 || this.weightDecay < 0)
            throw new Error('SGD: lr, momentum and weightDecay must be >= 0');
        if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
            throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
    stateNames() { return this.momentum !== 0 ? ['momentum_buffer'] : []; }
    update(param, grad, state, step) {
        const hasMomentum = this.momentum !== 0;
        const n4 = Math.ceil(param.size / 4);
        param.runtime.run(sgdStepKernel, { momentum: hasMomentum, nesterov: this.nesterov }, hasMomentum ? [param, grad, state['momentum_buffer']] : [param, grad], hasMomentum
            ? { n4, lr: this.lr, weightDecay: this.weightDecay, momentum: this.momentum, dampening: this.dampening, firstStep: step === 1 ? 1 : 0 }
            : { n4, lr: this.lr, weightDecay: this.weightDecay }, optimWorkgroups(param.size));
    }
}
//# sourceMappingURL=sgd.js.map
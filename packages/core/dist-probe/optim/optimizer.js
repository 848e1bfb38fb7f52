import { keep } from '../memory.js';
import { zeros } from '../ops/creation/creation.js';
import { sameShape } from '../ops/shape.js';
import { checkStateValue, copyStateValue, stateEntries } from '../nn/state-dict.js';
/**
 * Base of the optimizers: keeps named parameters and their lazily created state, and runs one
 * fused update kernel per parameter with a gradient. Subclasses name their state tensors and
 * record the update.
 */
export class Optimizer {
    params;
    state = new Map();
    steps = 0;
    constructor(params) {
        const list = Array.isArray(params) && params.every((p) => !Array.isArray(p))
            ? params.map((t, i) => [String(i), t])
            : [...params];
        const names = new Set();
        for (const [name, t] of list) {
            if (names.has(name))
                throw new Error(`optimizer: parameter name '${name}' appears twice`);
            if (t.dtype !== 'f32')
                throw new Error(`optimizer: parameter '${name}' is ${t.dtype}; only f32 tensors can be optimised`);
            names.add(name);
        }
        this.params = list;
    }
    /** Number of `step()` calls so far. */
    get stepCount() { return this.steps; }
    /** Updates every parameter that has a gradient, in place on the GPU (no CPU wait). */
    step() {
        for (const [name, param] of this.params) {
            const grad = param.grad;
            if (!grad)
                continue;
            if (!sameShape(grad.shape, param.shape))
                throw new Error(`optimizer: gradient of '${name}' has shape [${grad.shape}], parameter [${param.shape}]`);
            const st = this.state.get(name) ?? this.createState(name, param);
            st.steps++;
            this.update(param, grad, st.tensors, st.steps);
        }
        this.steps++;
    }
    /** Frees every parameter's gradient. */
    zeroGrad() {
        for (const [, p] of this.params) {
            p.grad?.dispose();
            p.grad = null;
        }
    }
    /** The step count and per-parameter state; the tensors are the optimizer's own, not copies. */
    stateDict() {
        const state = {};
        const paramSteps = {};
        for (const [name, st] of this.state) {
            state[name] = { ...st.tensors };
            paramSteps[name] = st.steps;
        }
        return { step: this.steps, state, paramSteps };
    }
    /**
     * Restores a `stateDict()` (tensors or host data, e.g. read from a checkpoint). Everything is
     * checked before anything is copied; errors name the offending key. Parameters absent from
     * `dict.state` start afresh; without `paramSteps` each parameter's count is `dict.step`.
     */
    loadStateDict(dict) {
        const params = new Map(this.params);
        const expected = this.stateNames();
        const entries = stateEntries(dict.state);
        for (const [name, tensors] of entries) {
            const param = params.get(name);
            if (!param)
                throw new Error(`optimizer loadStateDict: state for unknown parameter '${name}'`);
            const keys = Object.keys(tensors);
            const missing = expected.filter((k) => !keys.includes(k));
            const unexpected = keys.filter((k) => !expected.includes(k));
            if (missing.length > 0)
                throw new Error(`optimizer loadStateDict: missing state ${missing.map((k) => `'${name}.${k}'`).join(', ')}`);
            if (unexpected.length > 0)
                throw new Error(`optimizer loadStateDict: unexpected state ${unexpected.map((k) => `'${name}.${k}'`).join(', ')}`);
            for (const k of expected)
                checkStateValue(`${name}.${k}`, param, tensors[k]);
        }
        this.disposeState();
        for (const [name, tensors] of entries) {
            const st = this.createState(name, params.get(name));
            for (const k of expected)
                copyStateValue(st.tensors[k], tensors[k]);
            st.steps = dict.paramSteps?.[name] ?? dict.step;
        }
        this.steps = dict.step;
    }
    /** Frees the optimizer's state tensors (not the parameters). */
    dispose() { this.disposeState(); }
    createState(name, param) {
        const tensors = {};
        for (const k of this.stateNames())
            tensors[k] = keep(zeros(param.shape));
        const st = { steps: 0, tensors };
        this.state.set(name, st);
        return st;
    }
    disposeState() {
        for (const st of this.state.values())
            for (const t of Object.values(st.tensors))
                t.dispose();
        this.state.clear();
    }
}
//# sourceMappingURL=optimizer.js.map
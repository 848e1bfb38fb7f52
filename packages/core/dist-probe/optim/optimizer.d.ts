import type { Tensor } from '../tensor.js';
import { type StateValue } from '../nn/state-dict.js';
/** Parameters to optimise: named (`model.namedParameters()`), or a list (named '0', '1', …). */
export type ParamsInput = Map<string, Tensor> | Iterable<[string, Tensor]> | Tensor[];
export interface OptimizerStateDict<V = Tensor> {
    /** `step()` calls so far. */
    step: number;
    /** per parameter name: its state tensors (e.g. `exp_avg`, `exp_avg_sq`), once it has been updated. */
    state: Record<string, Record<string, V>>;
    /** per parameter name: how many updates it received (parameters without a gradient are skipped). */
    paramSteps: Record<string, number>;
}
/**
 * Base of the optimizers: keeps named parameters and their lazily created state, and runs one
 * fused update kernel per parameter with a gradient. Subclasses name their state tensors and
 * record the update.
 */
export declare abstract class Optimizer {
    readonly params: ReadonlyArray<readonly [string, Tensor]>;
    /** learning rate; may be changed between steps (schedules). */
    abstract lr: number;
    private readonly state;
    private steps;
    constructor(params: ParamsInput);
    /** Number of `step()` calls so far. */
    get stepCount(): number;
    /** The state tensors a parameter keeps, by name (created as zeros before its first update). */
    protected abstract stateNames(): readonly string[];
    /** Records the update of one parameter; `step` counts its updates including this one (1 on the first). */
    protected abstract update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;
    /** Updates every parameter that has a gradient, in place on the GPU (no CPU wait). */
    step(): void;
    /** Frees every parameter's gradient. */
    zeroGrad(): void;
    /** The step count and per-parameter state; the tensors are the optimizer's own, not copies. */
    stateDict(): OptimizerStateDict;
    /**
     * Restores a `stateDict()` (tensors or host data, e.g. read from a checkpoint). Everything is
     * checked before anything is copied; errors name the offending key. Parameters absent from
     * `dict.state` start afresh; without `paramSteps` each parameter's count is `dict.step`.
     */
    loadStateDict(dict: {
        step: number;
        state: Record<string, Record<string, StateValue>>;
        paramSteps?: Record<string, number>;
    }): void;
    /** Frees the optimizer's state tensors (not the parameters). */
    dispose(): void;
    private createState;
    private disposeState;
}

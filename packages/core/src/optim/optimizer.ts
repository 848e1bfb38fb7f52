import type { Tensor } from '../tensor.js';
import { keep } from '../memory.js';
import { zeros } from '../ops/creation/creation.js';
import { sameShape } from '../ops/shape.js';
import { checkStateValue, copyStateValue, stateEntries, type StateValue } from '../nn/state-dict.js';

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

interface ParamState { steps: number; tensors: Record<string, Tensor> }

/** One parameter's update in a step: `step` counts its updates including this one (1 on the first). */
export interface ParamUpdate { param: Tensor; grad: Tensor; state: Record<string, Tensor>; step: number }

/**
 * Base of the optimizers: keeps named parameters and their lazily created state, and runs one
 * fused update kernel per parameter with a gradient. Subclasses name their state tensors and
 * record the update.
 */
export abstract class Optimizer {
  readonly params: ReadonlyArray<readonly [string, Tensor]>;
  /** learning rate; may be changed between steps (schedules). */
  abstract lr: number;
  private readonly state = new Map<string, ParamState>();
  private steps = 0;

  constructor(params: ParamsInput) {
    const list: Array<[string, Tensor]> = Array.isArray(params) && params.every((p) => !Array.isArray(p))
      ? (params as Tensor[]).map((t, i) => [String(i), t])
      : [...(params as Iterable<[string, Tensor]>)];
    const names = new Set<string>();
    for (const [name, t] of list) {
      if (names.has(name)) throw new Error(`optimizer: parameter name '${name}' appears twice`);
      if (t.dtype !== 'f32') throw new Error(`optimizer: parameter '${name}' is ${t.dtype}; only f32 tensors can be optimised`);
      names.add(name);
    }
    this.params = list;
  }

  /** Number of `step()` calls so far. */
  get stepCount(): number { return this.steps; }

  /** The state tensors a parameter keeps, by name (created as zeros before its first update). */
  protected abstract stateNames(): readonly string[];

  /** Records the update of one parameter; `step` counts its updates including this one (1 on the first). */
  protected abstract update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, step: number): void;

  /**
   * Records the updates of one step, in parameter order; by default one `update` each. An optimizer
   * whose kernel takes several parameters per dispatch overrides this.
   */
  protected updateAll(updates: readonly ParamUpdate[]): void {
    for (const u of updates) this.update(u.param, u.grad, u.state, u.step);
  }

  /** Updates every parameter that has a gradient, in place on the GPU (no CPU wait). */
  step(): void {
    const updates: ParamUpdate[] = [];
    for (const [name, param] of this.params) {
      const grad = param.grad;
      if (!grad) continue;
      if (!sameShape(grad.shape, param.shape)) throw new Error(`optimizer: gradient of '${name}' has shape [${grad.shape}], parameter [${param.shape}]`);
      const st = this.state.get(name) ?? this.createState(name, param);
      st.steps++;
      updates.push({ param, grad, state: st.tensors, step: st.steps });
    }
    this.updateAll(updates);
    this.steps++;
  }

  /**
   * Records one update of every parameter that has a gradient, as `step()` would but into
   * throwaway state tensors: for Runtime.warmPipelines, which only collects the update kernels'
   * pipelines (nothing runs). Step counts and the optimizer's state are untouched.
   */
  recordForPipelineWarmup(): void {
    const updates: ParamUpdate[] = [];
    const scratch: Tensor[] = [];
    for (const [, param] of this.params) {
      if (!param.grad) continue;
      const state: Record<string, Tensor> = {};
      for (const k of this.stateNames()) scratch.push((state[k] = zeros(param.shape)));
      updates.push({ param, grad: param.grad, state, step: 1 });
    }
    this.updateAll(updates);
    for (const t of scratch) t.dispose();
  }

  /** Frees every parameter's gradient. */
  zeroGrad(): void {
    for (const [, p] of this.params) { p.grad?.dispose(); p.grad = null; }
  }

  /** The step count and per-parameter state; the tensors are the optimizer's own, not copies. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, Record<string, Tensor>> = {};
    const paramSteps: Record<string, number> = {};
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
  loadStateDict(dict: { step: number; state: Record<string, Record<string, StateValue>>; paramSteps?: Record<string, number> }): void {
    const params = new Map(this.params);
    const expected = this.stateNames();
    const entries = stateEntries(dict.state);
    for (const [name, tensors] of entries) {
      const param = params.get(name);
      if (!param) throw new Error(`optimizer loadStateDict: state for unknown parameter '${name}'`);
      const keys = Object.keys(tensors);
      const missing = expected.filter((k) => !keys.includes(k));
      const unexpected = keys.filter((k) => !expected.includes(k));
      if (missing.length > 0) throw new Error(`optimizer loadStateDict: missing state ${missing.map((k) => `'${name}.${k}'`).join(', ')}`);
      if (unexpected.length > 0) throw new Error(`optimizer loadStateDict: unexpected state ${unexpected.map((k) => `'${name}.${k}'`).join(', ')}`);
      for (const k of expected) checkStateValue(`${name}.${k}`, param, tensors[k]!);
    }
    this.disposeState();
    for (const [name, tensors] of entries) {
      const st = this.createState(name, params.get(name)!);
      for (const k of expected) copyStateValue(st.tensors[k]!, tensors[k]!);
      st.steps = dict.paramSteps?.[name] ?? dict.step;
    }
    this.steps = dict.step;
  }

  /** Frees the optimizer's state tensors (not the parameters). */
  dispose(): void { this.disposeState(); }

  private createState(name: string, param: Tensor): ParamState {
    const tensors: Record<string, Tensor> = {};
    for (const k of this.stateNames()) tensors[k] = keep(zeros(param.shape));
    const st = { steps: 0, tensors };
    this.state.set(name, st);
    return st;
  }

  private disposeState(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.tensors)) t.dispose();
    this.state.clear();
  }
}

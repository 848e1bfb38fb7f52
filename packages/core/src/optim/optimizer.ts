import type { Tensor } from '../tensor.js';
import type { Bindable, Runtime } from '../runtime/runtime.js';
import { sameShape } from '../ops/shape.js';
import { FlatParams } from './flat.js';
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

/**
 * One dispatch's update: a range of the flat parameter, gradient and state buffers whose
 * parameters share a step count (in a training step, every parameter: one range).
 */
export interface FlatUpdate {
  runtime: Runtime;
  params: Bindable;
  grads: Bindable;
  /** the flat state buffers by name (`stateNames()`), over the same range. */
  state: Record<string, Bindable>;
  /** floats in the range (the padding between parameters included). */
  length: number;
  /** the parameters' update count including this one (1 on the first). */
  step: number;
}

/**
 * Base of the optimizers: keeps named parameters, their gradients and their lazily created state
 * in flat buffers (FlatParams), and updates them with one fused kernel per range of parameters
 * that share a step count: one dispatch per step when every parameter has a gradient.
 * Subclasses name their state tensors and record the update of a range.
 */
export abstract class Optimizer {
  readonly params: ReadonlyArray<readonly [string, Tensor]>;
  /** learning rate; may be changed between steps (schedules). */
  abstract lr: number;
  private readonly state = new Map<string, ParamState>();
  private steps = 0;
  private flat_: FlatParams | null = null;

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

  /** Records the update of a range of parameters that share a step count: one dispatch. */
  protected abstract updateRange(u: FlatUpdate): void;

  /** The flat buffers, made (and the parameters moved onto them) at first use. */
  private get flat(): FlatParams {
    return (this.flat_ ??= new FlatParams(this.params.map(([, t]) => t)));
  }

  /** Updates every parameter that has a gradient, in place on the GPU (no CPU wait). */
  step(): void {
    const indices: number[] = [];
    for (const [i, [name, param]] of this.params.entries()) {
      const grad = param.grad;
      if (!grad) continue;
      if (!sameShape(grad.shape, param.shape)) throw new Error(`optimizer: gradient of '${name}' has shape [${grad.shape}], parameter [${param.shape}]`);
      indices.push(i);
    }
    if (indices.length === 0) { this.steps++; return; }
    const flat = this.flat;
    const stepOf: number[] = [];
    for (const i of indices) {
      const [name, param] = this.params[i]!;
      flat.home(i);
      flat.gatherGrad(i, param.grad!);
      const st = this.state.get(name) ?? this.createState(name, i);
      stepOf[i] = ++st.steps;
    }
    this.updateRanges(indices, (i) => stepOf[i]!);
    this.steps++;
  }

  /**
   * Records the update kernels of a step without touching the optimizer's state: for
   * Runtime.warmPipelines, which only collects the kernels' pipelines (nothing runs). Step counts,
   * state and parameters are untouched.
   */
  recordForPipelineWarmup(): void {
    const indices = [...this.params.keys()].filter((i) => this.params[i]![1].grad);
    if (indices.length > 0) this.updateRanges(indices, () => 1);
  }

  private updateRanges(indices: readonly number[], stepOf: (i: number) => number): void {
    const flat = this.flat;
    const runtime = this.params[indices[0]!]![1].runtime;
    for (const r of flat.ranges(indices, stepOf, runtime.description.limits.maxStorageBufferBindingSize)) {
      this.updateRange({ runtime, ...flat.bindings(r, this.stateNames()), length: r.length, step: r.key });
    }
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
    const index = new Map(this.params.map(([name], i) => [name, i]));
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
      const st = this.createState(name, index.get(name)!);
      for (const k of expected) copyStateValue(st.tensors[k]!, tensors[k]!);
      st.steps = dict.paramSteps?.[name] ?? dict.step;
    }
    this.steps = dict.step;
  }

  /** Frees the optimizer's state and flat buffers (the parameters keep their values). */
  dispose(): void {
    this.disposeState();
    this.flat_?.dispose();
    this.flat_ = null;
  }

  private createState(name: string, i: number): ParamState {
    const tensors: Record<string, Tensor> = {};
    for (const k of this.stateNames()) tensors[k] = this.flat.stateSlot(k, i);
    const st = { steps: 0, tensors };
    this.state.set(name, st);
    return st;
  }

  private disposeState(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.tensors)) t.dispose();
    this.state.clear();
  }
}

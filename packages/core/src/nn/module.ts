import type { Tensor } from '../tensor.js';
import { keep } from '../memory.js';
import { checkStateValue, copyStateValue, stateEntries, type StateValue } from './state-dict.js';

export interface LoadStateDictOptions {
  /** require the keys to match the module's state dict exactly (default true). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * A layer or model: parameters (trained tensors), buffers (state that is not trained, such as
 * batch-norm running statistics) and child modules, named like PyTorch (`features.0.weight`).
 *
 * Parameters and buffers are registered explicitly (`registerParameter`, `registerBuffer`); child
 * modules either with `registerModule` or simply by assigning them (or arrays of them) to a
 * property, which names them after the property (`blocks.2.conv.weight`). Registered tensors are
 * taken out of `tidy` scopes: they live until `dispose()`.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** training mode (batch norm uses batch statistics, dropout drops); set with `train()`/`eval()`. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #modules = new Map<string, AnyModule>();
  /** The module this one was found under and its name there (set by registration and traversal). */
  #parent: { module: AnyModule; name: string } | null = null;

  /** The computation; any arguments (`Module<[Tensor, Tensor], Tensor>` takes two tensors). */
  abstract forward(...args: In): Out;

  /**
   * The dotted path from the outermost module that holds this one (`classifier.0`), known once the
   * module was registered or a parent enumerated its children (`parameters()` and the like do);
   * '' for a root.
   */
  get path(): string {
    const names: string[] = [];
    const seen = new Set<AnyModule>();
    for (let link = this.#parent; link && !seen.has(link.module); link = link.module.#parent) {
      seen.add(link.module);
      names.unshift(link.name);
    }
    return names.join('.');
  }

  /** `path (description)`, or the description alone for a root: how errors name a layer. */
  protected describe(description: string): string {
    const path = this.path;
    return path ? `${path} (${description})` : description;
  }

  /** Adds a trained tensor under `name`: it requires grad and outlives tidy scopes. Returns it. */
  registerParameter(name: string, t: Tensor): Tensor {
    this.checkNewName(name);
    this.#parameters.set(name, keep(t).requireGrad());
    t.name ??= name;
    return t;
  }

  /** Adds an untrained state tensor (saved in the state dict) under `name`. Returns it. */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.checkNewName(name);
    this.#buffers.set(name, keep(t));
    t.name ??= name;
    return t;
  }

  /** Adds a child module under `name` (assigning a module to a property registers it too). */
  registerModule<M extends AnyModule>(name: string, m: M): M {
    this.checkNewName(name);
    this.#modules.set(name, m);
    m.#parent ??= { module: this, name };
    return m;
  }

  /** Direct children: registered ones, then modules (or arrays of modules) held by properties. */
  namedChildren(): Map<string, AnyModule> {
    const out = new Map(this.#modules);
    const seen = new Set(out.values());
    const add = (name: string, m: AnyModule): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.set(name, m);
      m.#parent ??= { module: this, name };
    };
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) add(key, value);
      else if (Array.isArray(value)) value.forEach((v, i) => { if (v instanceof Module) add(`${key}.${i}`, v); });
    }
    return out;
  }

  /** This module (name '') and every descendant, depth first, with dotted names. */
  namedModules(): Map<string, AnyModule> {
    const out = new Map<string, AnyModule>();
    const seen = new Set<AnyModule>();
    const visit = (prefix: string, m: AnyModule): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.set(prefix, m);
      for (const [name, child] of m.namedChildren()) visit(prefix ? `${prefix}.${name}` : name, child);
    };
    visit('', this);
    return out;
  }

  /** Every parameter with its dotted name (a tensor shared by two modules appears once). */
  namedParameters(): Map<string, Tensor> {
    return this.collect((m) => m.#parameters);
  }

  parameters(): Tensor[] { return [...this.namedParameters().values()]; }

  namedBuffers(): Map<string, Tensor> {
    return this.collect((m) => m.#buffers);
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, then its
   * buffers, then its children). The tensors are the module's own, not copies.
   */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.collect((m) => new Map([...m.#parameters, ...m.#buffers])));
  }

  /**
   * Copies values into the module's parameters and buffers (GPU copies for tensors, uploads for
   * host data). Everything is checked before anything is copied: a shape or dtype mismatch always
   * throws naming the key; missing and unexpected keys throw when `strict` (the default) and are
   * returned otherwise.
   */
  loadStateDict(values: Record<string, StateValue> | Map<string, StateValue>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const own = this.stateDict();
    const given = new Map(stateEntries(values));
    const missingKeys = Object.keys(own).filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !Object.hasOwn(own, k));
    if ((opts.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts = [];
      if (missingKeys.length > 0) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length > 0) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      throw new Error(`loadStateDict: ${parts.join('; ')}`);
    }
    const pairs = Object.entries(own).flatMap(([k, t]) => (given.has(k) ? [[k, t, given.get(k)!] as const] : []));
    for (const [k, t, v] of pairs) checkStateValue(k, t, v);
    for (const [, t, v] of pairs) copyStateValue(t, v);
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    for (const m of this.namedModules().values()) m.training = mode;
    return this;
  }

  /** Evaluation mode: batch norm uses running statistics, dropout passes inputs through. */
  eval(): this { return this.train(false); }

  /** Frees every parameter's gradient (PyTorch's `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.parameters()) { p.grad?.dispose(); p.grad = null; }
  }

  /** Frees every parameter (and its gradient) and buffer of this module and its descendants. */
  dispose(): void {
    for (const m of this.namedModules().values()) {
      for (const t of [...m.#parameters.values(), ...m.#buffers.values()]) t.dispose();
    }
  }

  private collect(own: (m: AnyModule) => Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of own(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.set(prefix ? `${prefix}.${name}` : name, t);
      }
    }
    return out;
  }

  private checkNewName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`invalid name '${name}': names must be non-empty and contain no '.'`);
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new Error(`'${name}' is already registered on ${this.constructor.name}`);
    }
  }
}

/** A module of any signature (containers hold these). */
export type AnyModule = Module<any[], any>;

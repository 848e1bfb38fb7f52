import type { Tensor } from '../tensor.js';
import { Module, type AnyModule } from './module.js';

/**
 * Holds modules in a list, named '0', '1', … like PyTorch's `nn.ModuleList`; it has no forward of
 * its own (the module that holds it decides how to call them).
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> implements Iterable<M> {
  readonly #items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: M): this {
    this.#items.push(this.registerModule(String(this.#items.length), m));
    return this;
  }

  get length(): number { return this.#items.length; }

  /** The module at `i` (negative counts from the end); throws when out of range. */
  at(i: number): M {
    const m = this.#items.at(i);
    if (!m) throw new Error(`ModuleList index ${i} is out of range for ${this.#items.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> { return this.#items[Symbol.iterator](); }

  forward(): never { throw new Error('ModuleList has no forward: call its modules'); }
}

/** Holds modules by name, like PyTorch's `nn.ModuleDict` (names in insertion order). */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  readonly #items = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in Object(modules) ? [...(modules as Iterable<[string, M]>)] : Object.entries(modules);
    for (const [name, m] of entries) this.set(name, m);
  }

  set(name: string, m: M): this {
    this.#items.set(name, this.registerModule(name, m));
    return this;
  }

  get(name: string): M {
    const m = this.#items.get(name);
    if (!m) throw new Error(`ModuleDict has no module '${name}' (it has: ${[...this.#items.keys()].join(', ')})`);
    return m;
  }

  has(name: string): boolean { return this.#items.has(name); }
  keys(): string[] { return [...this.#items.keys()]; }
  entries(): Array<[string, M]> { return [...this.#items.entries()]; }
  get size(): number { return this.#items.size; }

  forward(): never { throw new Error('ModuleDict has no forward: call its modules'); }
}

/** Returns its input (a placeholder, e.g. a residual block's shortcut). */
export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

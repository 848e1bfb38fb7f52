import { keep } from '../memory.js';
import { checkStateValue, copyStateValue, stateEntries } from './state-dict.js';
/**
 * A layer or model: parameters (trained tensors), buffers (state that is not trained, such as
 * batch-norm running statistics) and child modules, named like PyTorch (`features.0.weight`).
 *
 * Parameters and buffers are registered explicitly (`registerParameter`, `registerBuffer`); child
 * modules either with `registerModule` or simply by assigning them (or arrays of them) to a
 * property, which names them after the property (`blocks.2.conv.weight`). Registered tensors are
 * taken out of `tidy` scopes: they live until `dispose()`.
 */
export class Module {
    /** training mode (batch norm uses batch statistics, dropout drops); set with `train()`/`eval()`. */
    training = true;
    #parameters = new Map();
    #buffers = new Map();
    #modules = new Map();
    /** Adds a trained tensor under `name`: it requires grad and outlives tidy scopes. Returns it. */
    registerParameter(name, t) {
        this.checkNewName(name);
        this.#parameters.set(name, keep(t).requireGrad());
        t.name ??= name;
        return t;
    }
    /** Adds an untrained state tensor (saved in the state dict) under `name`. Returns it. */
    registerBuffer(name, t) {
        this.checkNewName(name);
        this.#buffers.set(name, keep(t));
        t.name ??= name;
        return t;
    }
    /** Adds a child module under `name` (assigning a module to a property registers it too). */
    registerModule(name, m) {
        this.checkNewName(name);
        this.#modules.set(name, m);
        return m;
    }
    /** Direct children: registered ones, then modules (or arrays of modules) held by properties. */
    namedChildren() {
        const out = new Map(this.#modules);
        const seen = new Set(out.values());
        const add = (name, m) => {
            if (seen.has(m))
                return;
            seen.add(m);
            out.set(name, m);
        };
        for (const [key, value] of Object.entries(this)) {
            if (value instanceof Module)
                add(key, value);
            else if (Array.isArray(value))
                value.forEach((v, i) => { if (v instanceof Module)
                    add(`${key}.${i}`, v); });
        }
        return out;
    }
    /** This module (name '') and every descendant, depth first, with dotted names. */
    namedModules() {
        const out = new Map();
        const seen = new Set();
        const visit = (prefix, m) => {
            if (seen.has(m))
                return;
            seen.add(m);
            out.set(prefix, m);
            for (const [name, child] of m.namedChildren())
                visit(prefix ? `${prefix}.${name}` : name, child);
        };
        visit('', this);
        return out;
    }
    /** Every parameter with its dotted name (a tensor shared by two modules appears once). */
    namedParameters() {
        return this.collect((m) => m.#parameters);
    }
    parameters() { return [...this.namedParameters().values()]; }
    namedBuffers() {
        return this.collect((m) => m.#buffers);
    }
    /**
     * Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, then its
     * buffers, then its children). The tensors are the module's own, not copies.
     */
    stateDict() {
        return Object.fromEntries(this.collect((m) => new Map([...m.#parameters, ...m.#buffers])));
    }
    /**
     * Copies values into the module's parameters and buffers (GPU copies for tensors, uploads for
     * host data). Everything is checked before anything is copied: a shape or dtype mismatch always
     * throws naming the key; missing and unexpected keys throw when `strict` (the default) and are
     * returned otherwise.
     */
    loadStateDict(values, opts = {}) {
        const own = this.stateDict();
        const given = new Map(stateEntries(values));
        const missingKeys = Object.keys(own).filter((k) => !given.has(k));
        const unexpectedKeys = [...given.keys()].filter((k) => !Object.hasOwn(own, k));
        if ((opts.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
            const parts = [];
            if (missingKeys.length > 0)
                parts.push(`missing keys: ${missingKeys.join(', ')}`);
            if (unexpectedKeys.length > 0)
                parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
            throw new Error(`loadStateDict: ${parts.join('; ')}`);
        }
        const pairs = Object.entries(own).flatMap(([k, t]) => (given.has(k) ? [[k, t, given.get(k)]] : []));
        for (const [k, t, v] of pairs)
            checkStateValue(k, t, v);
        for (const [, t, v] of pairs)
            copyStateValue(t, v);
        return { missingKeys, unexpectedKeys };
    }
    /** Sets training mode on this module and all descendants. */
    train(mode = true) {
        for (const m of this.namedModules().values())
            m.training = mode;
        return this;
    }
    /** Evaluation mode: batch norm uses running statistics, dropout passes inputs through. */
    eval() { return this.train(false); }
    /** Frees every parameter's gradient (PyTorch's `set_to_none`). */
    zeroGrad() {
        for (const p of this.parameters()) {
            p.grad?.dispose();
            p.grad = null;
        }
    }
    /** Frees every parameter (and its gradient) and buffer of this module and its descendants. */
    dispose() {
        for (const m of this.namedModules().values()) {
            for (const t of [...m.#parameters.values(), ...m.#buffers.values()])
                t.dispose();
        }
    }
    collect(own) {
        const out = new Map();
        const seen = new Set();
        for (const [prefix, m] of this.namedModules()) {
            for (const [name, t] of own(m)) {
                if (seen.has(t))
                    continue;
                seen.add(t);
                out.set(prefix ? `${prefix}.${name}` : name, t);
            }
        }
        return out;
    }
    checkNewName(name) {
        if (name === '' || name.includes('.'))
            throw new Error(`invalid name '${name}': names must be non-empty and contain no '.'`);
        if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
            throw new Error(`'${name}' is already registered on ${this.constructor.name}`);
        }
    }
}
//# sourceMappingURL=module.js.map
import type { Tensor } from '../tensor.js';
import { type StateValue } from './state-dict.js';
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
export declare abstract class Module {
    #private;
    /** training mode (batch norm uses batch statistics, dropout drops); set with `train()`/`eval()`. */
    training: boolean;
    abstract forward(x: Tensor): Tensor;
    /** Adds a trained tensor under `name`: it requires grad and outlives tidy scopes. Returns it. */
    registerParameter(name: string, t: Tensor): Tensor;
    /** Adds an untrained state tensor (saved in the state dict) under `name`. Returns it. */
    registerBuffer(name: string, t: Tensor): Tensor;
    /** Adds a child module under `name` (assigning a module to a property registers it too). */
    registerModule<M extends Module>(name: string, m: M): M;
    /** Direct children: registered ones, then modules (or arrays of modules) held by properties. */
    namedChildren(): Map<string, Module>;
    /** This module (name '') and every descendant, depth first, with dotted names. */
    namedModules(): Map<string, Module>;
    /** Every parameter with its dotted name (a tensor shared by two modules appears once). */
    namedParameters(): Map<string, Tensor>;
    parameters(): Tensor[];
    namedBuffers(): Map<string, Tensor>;
    /**
     * Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, then its
     * buffers, then its children). The tensors are the module's own, not copies.
     */
    stateDict(): Record<string, Tensor>;
    /**
     * Copies values into the module's parameters and buffers (GPU copies for tensors, uploads for
     * host data). Everything is checked before anything is copied: a shape or dtype mismatch always
     * throws naming the key; missing and unexpected keys throw when `strict` (the default) and are
     * returned otherwise.
     */
    loadStateDict(values: Record<string, StateValue> | Map<string, StateValue>, opts?: LoadStateDictOptions): LoadStateDictResult;
    /** Sets training mode on this module and all descendants. */
    train(mode?: boolean): this;
    /** Evaluation mode: batch norm uses running statistics, dropout passes inputs through. */
    eval(): this;
    /** Frees every parameter's gradient (PyTorch's `set_to_none`). */
    zeroGrad(): void;
    /** Frees every parameter (and its gradient) and buffer of this module and its descendants. */
    dispose(): void;
    private collect;
    private checkNewName;
}

import { Tensor, type Storage } from './tensor.js';
import type { Runtime } from './runtime/runtime.js';
/**
 * Reverse-mode autograd. An op that may need gradients records a GradNode on its output: the
 * inputs, the tensors its gradient rule needs (saved: their storage is retained, so disposing or
 * tidying the forward tensors is safe), and the rule itself, written beside the op's forward.
 */
/** `needs[i]` tells whether input i needs a gradient: rules skip the work for those that do not. */
export type GradRule = (gradOutput: Tensor, saved: Tensor[], needs: boolean[]) => Array<Tensor | null>;
export declare class GradNode {
    readonly op: string;
    readonly inputs: Tensor[];
    readonly rule: GradRule;
    private saved;
    /** The layer scope (`fire3/expand3x3`) the forward ran in: backward kernels are traced under it. */
    readonly scope: string;
    readonly runtime: Runtime;
    constructor(op: string, inputs: Tensor[], saved: Tensor[], rule: GradRule, runtime: Runtime);
    savedTensors(): Tensor[];
    free(): void;
}
export declare function isGradEnabled(): boolean;
/** Runs `fn` without recording gradients (inference, optimizer updates). */
export declare function noGrad<T>(fn: () => T): T;
/** Attaches the gradient rule to `out` when any input needs a gradient. Returns `out`. */
export declare function record(out: Tensor, op: string, inputs: Tensor[], saved: Tensor[], rule: GradRule): Tensor;
/**
 * Backpropagates from `root` (a scalar unless `gradient` is given), accumulating into `.grad` of
 * every leaf that requires grad, then frees the graph.
 */
export declare function backward(root: Tensor, gradient?: Tensor): void;
export type { Storage };
declare module './tensor.js' {
    interface Tensor {
        /** Backpropagates from this tensor; see `backward`. */
        backward(gradient?: Tensor): void;
    }
}

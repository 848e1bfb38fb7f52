import { Tensor, allocTensor, type Storage } from './tensor.js';
import { keep } from './memory.js';
import type { Runtime } from './runtime/runtime.js';
// This module imports this one too; the cycle is safe because it is only used when backward runs.
import { mapBinary } from './ops/elementwise/elementwise.js';

/**
 * Reverse-mode autograd. An op that may need gradients records a GradNode on its output: the
 * inputs, the tensors its gradient rule needs (saved: their storage is retained, so disposing or
 * tidying the forward tensors is safe), and the rule itself, written beside the op's forward.
 */
/**
 * `needs[i]` tells whether input i needs a gradient: rules skip the work for those that do not.
 * `pending.take(i)`: the gradient other consumers of input i have already produced (null if none, or
 * if the input is a leaf), handed to the rule, which owns it from then on and must return input i's
 * gradient with it included — so a kernel can add it in its epilogue instead of an add pass after.
 */
export type GradRule = (gradOutput: Tensor, saved: Tensor[], needs: boolean[], pending: PendingGrads) => Array<Tensor | null>;

export interface PendingGrads { take(input: number): Tensor | null }

export class GradNode {
  private saved: Tensor[] | null;
  /** The layer scope (`fire3/expand3x3`) the forward ran in: backward kernels are traced under it. */
  readonly scope: string;
  readonly runtime: Runtime;
  constructor(readonly op: string, readonly inputs: Tensor[], saved: Tensor[], readonly rule: GradRule, runtime: Runtime) {
    // Kept on the node: the tensor it produced may be disposed (tidy) before backward runs.
    this.runtime = runtime;
    this.scope = runtime.scopeName;
    // Views sharing the saved tensors' storage; kept out of tidy scopes, released after backward.
    this.saved = saved.map((t) => keep(t.view(t.shape)));
    nodeFinalizer.register(this, this.saved, this);
  }
  savedTensors(): Tensor[] {
    if (!this.saved) throw new Error(`the graph through '${this.op}' was already freed: call backward() once per forward pass`);
    return this.saved;
  }
  free(): void {
    if (!this.saved) return;
    nodeFinalizer.unregister(this);
    for (const t of this.saved) t.dispose();
    this.saved = null;
  }
}

// A graph that is never backpropagated frees its saved tensors when collected.
const nodeFinalizer = new FinalizationRegistry<Tensor[]>((saved) => { for (const t of saved) if (!t.isDisposed) t.dispose(); });

let gradEnabled = true;

export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** Attaches the gradient rule to `out` when any input needs a gradient. Returns `out`. */
export function record(out: Tensor, op: string, inputs: Tensor[], saved: Tensor[], rule: GradRule): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = new GradNode(op, inputs, saved, rule, out.runtime);
  }
  return out;
}

/** d root / d root = 1 for a one-element root, uploaded rather than filled by a kernel (a dispatch fewer per backward). */
function unitSeed(root: Tensor): Tensor {
  const t = allocTensor(root.shape, 'f32', root.runtime);
  root.runtime.write(t, Float32Array.of(1));
  return t;
}

/**
 * Backpropagates from `root` (a scalar unless `gradient` is given), accumulating into `.grad` of
 * every leaf that requires grad, then frees the graph.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward() on a tensor that does not require grad (no input had requiresGrad)');
  if (!gradient && root.size !== 1) throw new Error(`backward() without a gradient needs a scalar, got shape [${root.shape}]`);
  // Topological order of the nodes reachable from root.
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const visit = (t: Tensor): void => {
    if (seen.has(t.id) || !t.node) return;
    seen.add(t.id);
    for (const i of t.node.inputs) visit(i);
    order.push(t);
  };
  visit(root);
  noGrad(() => {
    const grads = new Map<number, Tensor>();
    grads.set(root.id, gradient ? gradient.view(gradient.shape) : unitSeed(root));
    const accumulate = (t: Tensor, g: Tensor): void => {
      if (!t.node) {
        // A leaf: the gradient now belongs to the tensor (out of tidy scopes).
        keep(g);
        if (t.grad) { const sum = keep(mapBinary('add', t.grad, g)); t.grad.dispose(); g.dispose(); t.grad = sum; } else t.grad = g;
        return;
      }
      const prev = grads.get(t.id);
      if (prev) { grads.set(t.id, mapBinary('add', prev, g)); prev.dispose(); g.dispose(); } else grads.set(t.id, g);
    };
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const node = t.node!;
      const g = grads.get(t.id);
      grads.delete(t.id);
      if (!g) continue;
      const pending: PendingGrads = {
        take: (i) => {
          const input = node.inputs[i]!;
          const prev = input.node ? grads.get(input.id) : undefined;
          if (!prev) return null;
          grads.delete(input.id);
          return prev;
        },
      };
      const inputGrads = node.runtime.withScopePath(node.scope, () => node.rule(g, node.savedTensors(), node.inputs.map((x) => x.requiresGrad), pending));
      g.dispose();
      node.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (!ig) return;
        if (!input.requiresGrad) { ig.dispose(); return; }
        if (ig.size !== input.size) throw new Error(`gradient rule of '${node.op}' returned [${ig.shape}] for input [${input.shape}]`);
        accumulate(input, ig.shape.length === input.shape.length && ig.shape.every((d, j) => d === input.shape[j]) ? ig : reshapeOwned(ig, input.shape));
      });
    }
    for (const t of order) { t.node!.free(); }
  });
}

function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.view(shape);
  t.dispose();
  return v;
}


export type { Storage };

declare module './tensor.js' {
  interface Tensor {
    /** Backpropagates from this tensor; see `backward`. */
    backward(gradient?: Tensor): void;
  }
}
Tensor.prototype.backward = function (this: Tensor, gradient?: Tensor): void { backward(this, gradient); };

import type { Tensor } from './tensor.js';

/**
 * Ownership: every tensor belongs to the innermost `tidy` scope that created it; leaving the scope
 * disposes all its tensors except those returned (they move to the enclosing scope) and those
 * handed to `keep`. Outside any scope a tensor lives until `dispose()` (or garbage collection).
 */
const scopes: Set<Tensor>[] = [];
let live = 0;

export function track(t: Tensor): void {
  live++;
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Tensor): void {
  for (const s of scopes) s.delete(t);
}

export function noteDisposed(): void { live--; }
export function liveTensorCount(): number { return live; }

/** Takes `t` out of every scope: it lives until disposed explicitly. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

type Returned = Tensor | Tensor[] | Record<string, Tensor> | void | number | string | boolean | null | undefined | object;

function collect(result: unknown, into: Set<Tensor>, TensorClass: Function): void {
  if (result instanceof TensorClass) into.add(result as Tensor);
  else if (Array.isArray(result)) for (const r of result) collect(r, into, TensorClass);
  else if (result && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype) {
    for (const v of Object.values(result)) collect(v, into, TensorClass);
  }
}

let tensorClass: Function | null = null;
export function registerTensorClass(c: Function): void { tensorClass = c; }

/** Runs `fn`, then disposes every tensor it created that is not part of its (sync) result. */
export function tidy<T extends Returned>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy() takes a synchronous function; await outside it');
  const keepSet = new Set<Tensor>();
  collect(result, keepSet, tensorClass!);
  for (const t of scope) {
    if (keepSet.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

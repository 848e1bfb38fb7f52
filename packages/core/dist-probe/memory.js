/**
 * Ownership: every tensor belongs to the innermost `tidy` scope that created it; leaving the scope
 * disposes all its tensors except those returned (they move to the enclosing scope) and those
 * handed to `keep`. Outside any scope a tensor lives until `dispose()` (or garbage collection).
 */
const scopes = [];
let live = 0;
export function track(t) {
    live++;
    scopes[scopes.length - 1]?.add(t);
}
export function untrack(t) {
    for (const s of scopes)
        s.delete(t);
}
export function noteDisposed() { live--; }
export function liveTensorCount() { return live; }
/** Takes `t` out of every scope: it lives until disposed explicitly. */
export function keep(t) {
    untrack(t);
    return t;
}
function collect(result, into, TensorClass) {
    if (result instanceof TensorClass)
        into.add(result);
    else if (Array.isArray(result))
        for (const r of result)
            collect(r, into, TensorClass);
    else if (result && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype) {
        for (const v of Object.values(result))
            collect(v, into, TensorClass);
    }
}
let tensorClass = null;
export function registerTensorClass(c) { tensorClass = c; }
/** Runs `fn`, then disposes every tensor it created that is not part of its (sync) result. */
export function tidy(fn) {
    const scope = new Set();
    scopes.push(scope);
    let result;
    try {
        result = fn();
    }
    catch (e) {
        scopes.pop();
        for (const t of scope)
            t.dispose();
        throw e;
    }
    scopes.pop();
    if (result instanceof Promise)
        throw new Error('tidy() takes a synchronous function; await outside it');
    const keepSet = new Set();
    collect(result, keepSet, tensorClass);
    for (const t of scope) {
        if (keepSet.has(t))
            scopes[scopes.length - 1]?.add(t);
        else
            t.dispose();
    }
    return result;
}
//# sourceMappingURL=memory.js.map
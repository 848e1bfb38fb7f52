/**
 * Dawn's node binding (npm `webgpu`) learns that GPU work finished by polling: while anything is
 * pending (a buffer map, an async pipeline compile) it reschedules a native callback with the global
 * `setImmediate`, a busy loop on the main thread. On a software adapter that loop takes a core from
 * the threads doing the GPU work, and its garbage (~12 MB per SqueezeNet training step on llvmpipe)
 * brought major collections of 20–40 ms every step or two. Throttled, a batch-32 NHWC step took
 * 306–332 ms (medians of 30) against 329–359 busy, in three runs taking turns (2026-11-26). The cost:
 * a wait past the fast window learns of its end up to a timer tick late (the test suite, thousands
 * of short reads, runs ~30 s longer: 2 m 45 s against 2 m 12 s).
 *
 * `throttleNativePolling` wraps the global setImmediate once per process: a callback whose source is
 * native code (the binding's; JavaScript callbacks pass straight through — bound functions also read
 * as native) runs at once during the first FAST_POLL_MS of a chain of such polls, so short waits stay
 * short, and from a POLL_INTERVAL_MS timer after that. A chain ends when none was scheduled for
 * CHAIN_GAP_MS.
 */
export const FAST_POLL_MS = 5;
export const POLL_INTERVAL_MS = 1;
export const CHAIN_GAP_MS = 10;
const INSTALLED = Symbol.for('squeeze.throttledNativePolling');

export type Scheduler = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

/** The wrapper, from its parts (tests give fakes): `immediate` and `timeout` as setImmediate / setTimeout. */
export function throttledScheduler(immediate: Scheduler, timeout: (cb: (...args: unknown[]) => void, ms: number, ...args: unknown[]) => unknown, now: () => number): Scheduler {
  const nativeSource = /\{\s*\[native code\]\s*\}\s*$/;
  let chainStart = -Infinity;
  let last = -Infinity;
  return (callback, ...args) => {
    if (typeof callback !== 'function' || !nativeSource.test(Function.prototype.toString.call(callback))) return immediate(callback, ...args);
    const t = now();
    if (t - last > CHAIN_GAP_MS) chainStart = t;
    last = t;
    return t - chainStart < FAST_POLL_MS ? immediate(callback, ...args) : timeout(callback, POLL_INTERVAL_MS, ...args);
  };
}

export function throttleNativePolling(): void {
  const g = globalThis as unknown as Record<PropertyKey, unknown> & { setImmediate: Scheduler };
  if (g[INSTALLED]) return;
  const immediate = g.setImmediate;
  g.setImmediate = Object.assign(throttledScheduler(immediate, setTimeout as never, () => performance.now()), immediate);
  g[INSTALLED] = true;
}

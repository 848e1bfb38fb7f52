import assert from 'node:assert/strict';
import { CHAIN_GAP_MS, FAST_POLL_MS, POLL_INTERVAL_MS, throttledScheduler } from './polling.js';
import { getRuntime } from './global.js';
import { tensor } from '../ops/creation/creation.js';

describe("the throttle on Dawn's polling", () => {
  /** A fake clock and schedulers recording which one each callback went to. */
  const harness = () => {
    let clock = 0;
    const log: string[] = [];
    const schedule = throttledScheduler(
      (cb) => { log.push('immediate'); return cb; },
      (cb, ms) => { log.push(`timeout ${ms}`); return cb; },
      () => clock,
    );
    return { schedule, log, advance: (ms: number) => { clock += ms; } };
  };
  // Bound functions print as native code, like the binding's callback.
  const native = (() => undefined).bind(null);
  const script = () => undefined;

  it('polls at once for the first FAST_POLL_MS of a chain, then from a timer; a pause starts a new chain', () => {
    const h = harness();
    h.schedule(native);
    h.advance(FAST_POLL_MS / 2);
    h.schedule(native);
    h.advance(FAST_POLL_MS);
    h.schedule(native);
    h.advance(POLL_INTERVAL_MS);
    h.schedule(native);
    h.advance(CHAIN_GAP_MS + 1);
    h.schedule(native);
    assert.deepEqual(h.log, ['immediate', 'immediate', `timeout ${POLL_INTERVAL_MS}`, `timeout ${POLL_INTERVAL_MS}`, 'immediate']);
  });

  it('passes JavaScript callbacks straight to setImmediate, also inside a chain', () => {
    const h = harness();
    h.schedule(native);
    h.advance(FAST_POLL_MS * 2);
    h.schedule(script);
    h.schedule(native);
    assert.deepEqual(h.log, ['immediate', 'immediate', `timeout ${POLL_INTERVAL_MS}`]);
  });

  it('is installed with the runtime, and reads still complete through it', async () => {
    const rt = getRuntime();
    assert.equal((globalThis as unknown as Record<symbol, unknown>)[Symbol.for('squeeze.throttledNativePolling')], true);
    const t = tensor(Float32Array.from([1, 2, 3]));
    assert.deepEqual([...await t.data()], [1, 2, 3]);
    await rt.sync();
    t.dispose();
  });
});

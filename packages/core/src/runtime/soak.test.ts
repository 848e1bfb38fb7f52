import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { add, init, memory, mulScalar, shutdown, tensor, tidy, type Tensor } from '../index.js';

/**
 * Soak test of the runtime: thousands of submit/read-back cycles plus allocate/dispose churn,
 * tensors left to the garbage collector, and device re-creation. webgpu 0.6.2 was seen to abort
 * at random (mutex errors, segfaults) because the Dawn instance from `create()` could be garbage
 * collected while a device made from it lived; device.ts now keeps the instance referenced. The
 * soak runs in a child process, so a native abort fails the test with its exit status instead of
 * killing mocha — once as is and once with `--expose-gc` forcing full collections throughout.
 */

const SELF = fileURLToPath(import.meta.url);
/** Set in the child's environment to the number of cycles to run. */
const CHILD_CYCLES_ENV = 'SQUEEZE_SOAK_CYCLES';
const CYCLES = 10_000;
/** With --expose-gc, a full collection every this many cycles. */
const GC_EVERY = 25;
/** The device is destroyed and opened again (from the same Dawn instance) this often. */
const REOPEN_EVERY = 2500;
/** A healthy soak takes seconds; the Dawn bug this guards against sometimes hung instead of crashing. */
const CHILD_TIMEOUT_MS = 120_000;

if (process.env[CHILD_CYCLES_ENV] !== undefined) {
  await soak(Number(process.env[CHILD_CYCLES_ENV]));
} else {
  describe('runtime soak (child process)', function () {
    this.timeout(2 * CHILD_TIMEOUT_MS);

    for (const nodeFlags of [[], ['--expose-gc']]) {
      it(`${CYCLES} submit/read-back cycles with allocation churn${nodeFlags.length ? `, forcing GC every ${GC_EVERY} cycles` : ''}`, () => {
        const started = Date.now();
        const child = spawnSync(process.execPath, [...nodeFlags, SELF], {
          env: { ...process.env, [CHILD_CYCLES_ENV]: String(CYCLES), XDG_RUNTIME_DIR: '/tmp' },
          encoding: 'utf8',
          timeout: CHILD_TIMEOUT_MS,
        });
        const output = `${child.stdout}\n${child.stderr}`.trim();
        assert.equal(child.error, undefined, `${child.error?.message}\n${output}`);
        assert.equal(child.signal, null, `the soak died of ${child.signal} after ${Date.now() - started} ms:\n${output}`);
        assert.equal(child.status, 0, output);
        const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as { cycles: number; gcs: number; reopened: number };
        assert.equal(report.cycles, CYCLES);
        assert.equal(report.reopened, Math.floor((CYCLES - 1) / REOPEN_EVERY));
        if (nodeFlags.includes('--expose-gc')) assert.ok(report.gcs >= CYCLES / GC_EVERY - 1, `${report.gcs} collections`);
      });
    }
  });
}

async function soak(cycles: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let gcs = 0;
  let reopened = 0;
  await init();
  // Tensors held across cycles (disposed later) and dropped without dispose (left to the collector).
  const held: Tensor[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    if (cycle > 0 && cycle % REOPEN_EVERY === 0) {
      for (const t of held.splice(0)) t.dispose();
      shutdown();
      await init();
      reopened++;
    }
    // One small kernel and its read-back: the submit → mapAsync → read path every op's data() takes.
    const n = 1 + (cycle % 257);
    const a = tensor(Float32Array.from({ length: n }, (_, i) => i + cycle), [n]);
    const b = tidy(() => mulScalar(add(a, a), 0.5));
    const values = await b.data();
    for (let i = 0; i < n; i++) {
      if (values[i] !== i + cycle) throw new Error(`cycle ${cycle}: element ${i} is ${values[i]}, expected ${i + cycle}`);
    }
    a.dispose();
    b.dispose();
    // Churn: buffers of many bucket sizes, some freed at once, some later, some never (the
    // FinalizationRegistry gives those back when the collector runs).
    const size = 1 + ((cycle * 7919) % 50_000);
    const churn = tensor(new Float32Array(size).fill(cycle % 3), [size]);
    if (cycle % 3 === 0) churn.dispose();
    else if (cycle % 3 === 1) held.push(churn);
    if (held.length > 16) held.shift()!.dispose();
    if (gc && cycle % GC_EVERY === 0) {
      gc();
      gcs++;
    }
  }
  for (const t of held) t.dispose();
  const { liveTensors } = memory();
  shutdown();
  process.stdout.write(`${JSON.stringify({ cycles, gcs, reopened, liveTensors })}\n`);
}

import assert from 'node:assert/strict';
import { defineKernel, linearIndex, linearWorkgroups } from '@squeeze/kernels-wgsl';
import { NoAdapterError } from './device.js';
import { openDevice } from './dawn.js';
import { getRuntime } from './global.js';
import { PipelineCache } from '@squeeze/kernels-wgsl';
import { BufferPool, STORAGE_USAGE, bucketSize } from './buffer-pool.js';

const addOne = defineKernel<{ amount: number }>({
  name: 'test_add',
  bindings: () => [{ name: 'xs', type: 'f32', access: 'read_write' }],
  uniforms: () => [{ name: 'n', type: 'u32' }],
  workgroupSize: () => [64, 1, 1],
  body: (p) => `
  let i = ${linearIndex(64)};
  if (i < u.n) { xs[i] = xs[i] + ${p.amount.toFixed(1)}; }`,
});

/** Busy work: `iters` dependent multiply-adds per invocation, one dispatch however long it takes. */
const spin = defineKernel<Record<string, never>>({
  name: 'test_spin',
  bindings: () => [{ name: 'xs', type: 'f32', access: 'read_write' }],
  uniforms: () => [{ name: 'n', type: 'u32' }, { name: 'iters', type: 'u32' }],
  workgroupSize: () => [64, 1, 1],
  body: () => `
  let i = ${linearIndex(64)};
  if (i >= u.n) { return; }
  var acc = xs[i];
  for (var k = 0u; k < u.iters; k++) { acc = fma(acc, 0.999, 0.001); }
  xs[i] = acc;`,
});

describe('device and runtime', () => {
  it('a read after many cheap dispatches does not sleep for what expensive dispatches cost before', async () => {
    const rt = getRuntime();
    const n = 1 << 16;
    const buf = { buffer: rt.pool.acquire(4 * n), byteLength: 4 * n };
    rt.write(buf, new Float32Array(n));
    // Teach the read-back wait estimate that one dispatch costs a lot ...
    let heavyMs = 0;
    let before = 0;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      rt.run(spin, {}, [buf], { n, iters: 4000 }, linearWorkgroups(n, 64));
      before = new Float32Array(await rt.read(buf, 4))[0]!;
      heavyMs = Math.max(heavyMs, performance.now() - t0);
    }
    // ... then read after 2000 cheap ones: a per-dispatch estimate alone would sleep 2000× too long.
    for (let k = 0; k < 2000; k++) rt.run(addOne, { amount: 1 }, [buf], { n: 64 }, [1, 1, 1]);
    const t0 = performance.now();
    const first = new Float32Array(await rt.read(buf, 4))[0]!;
    const cheapMs = performance.now() - t0;
    assert.ok(cheapMs < 2 * heavyMs + 1000, `the read took ${cheapMs.toFixed(0)} ms; one heavy dispatch took ${heavyMs.toFixed(0)} ms`);
    assert.ok(Math.abs(first - (before + 2000)) < 0.5, `${first} after 2000 additions of 1 to ${before}`);
    rt.pool.release(buf.buffer);
  });


  it('opens the software adapter with a description and runs a compute shader', async () => {
    const rt = getRuntime();
    assert.match(`${rt.description.vendor} ${rt.description.description}`, /llvmpipe|mesa|nvidia|amd|intel|apple/i);
    assert.ok(rt.description.limits['maxStorageBufferBindingSize']! > 0);
    assert.ok(Array.isArray(rt.description.features));
    const buf = { buffer: rt.pool.acquire(4 * 100), byteLength: 400 };
    rt.write(buf, Float32Array.from({ length: 100 }, (_, i) => i));
    rt.run(addOne, { amount: 2 }, [buf], { n: 100 }, linearWorkgroups(100, 64));
    const out = new Float32Array(await rt.read(buf));
    assert.deepEqual([...out], Array.from({ length: 100 }, (_, i) => i + 2));
    rt.pool.release(buf.buffer);
  });

  it('names the missing adapter and lists the available ones', async () => {
    await assert.rejects(openDevice({ adapter: 'no-such-gpu-xyz' }), (e: Error) =>
      e instanceof NoAdapterError && /no-such-gpu-xyz/.test(e.message) && /available:/.test(e.message));
  });

  it('compiles each pipeline once; concurrent warm-ups share one compile; counts hits and misses', async () => {
    const cache = new PipelineCache(getRuntime().device);
    await Promise.all([cache.warm(addOne, { amount: 1 }), cache.warm(addOne, { amount: 1 }), cache.warm(addOne, { amount: 3 })]);
    assert.equal(cache.stats.compiles, 2);
    const a = cache.get(addOne, { amount: 1 });
    const b = cache.get(addOne, { amount: 1 });
    assert.equal(a, b);
    assert.equal(cache.stats.hits, 2);
    cache.get(addOne, { amount: 5 });
    assert.equal(cache.stats.misses, 1);
    assert.equal(cache.stats.compiles, 3);
    assert.deepEqual(cache.keys().sort(), ['test_add{"amount":1}', 'test_add{"amount":3}', 'test_add{"amount":5}']);
  });

  it('hands a released buffer out again only after the work that used it was submitted', async () => {
    const rt = getRuntime();
    rt.flush();
    const size = 1 << 20; // a bucket no other test is likely to be holding
    const first = rt.pool.acquire(size);
    rt.run(addOne, { amount: 1 }, [{ buffer: first, byteLength: size }], { n: size / 4 }, linearWorkgroups(size / 4, 64));
    rt.pool.release(first); // still referenced by the unsubmitted encoder
    const second = rt.pool.acquire(size);
    assert.notEqual(second, first, 'not reused before submit');
    rt.flush();
    rt.pool.release(second);
    const third = rt.pool.acquire(size);
    assert.ok(third === first || third === second, 'reused after submit');
    rt.pool.release(third);
    assert.equal(bucketSize(1000), 1024);
    assert.equal(bucketSize(3 << 20), 3 << 20);
  });

  it('while it only collects pipelines, hands a released buffer out again at once (nothing is recorded), and after it waits for a submit again', async () => {
    const rt = getRuntime();
    const size = (1 << 20) + (1 << 16); // a bucket of its own (1 MiB + 1/16)
    const bytes = bucketSize(size);
    const pending = rt.pool.acquire(size);
    rt.run(addOne, { amount: 1 }, [{ buffer: pending, byteLength: bytes }], { n: size / 4 }, linearWorkgroups(size / 4, 64));
    rt.pool.release(pending); // recorded, not yet submitted: warmPipelines submits it before collecting
    const seen: GPUBuffer[] = [];
    await rt.warmPipelines(() => {
      for (let i = 0; i < 3; i++) {
        const b = rt.pool.acquire(size);
        rt.run(addOne, { amount: 2 }, [{ buffer: b, byteLength: bytes }], { n: size / 4 }, linearWorkgroups(size / 4, 64));
        seen.push(b);
        rt.pool.release(b);
      }
    });
    assert.ok(seen.every((b) => b === pending), 'one buffer serves every tensor of the warm-up, the submitted one among them');
    const held = rt.pool.acquire(size);
    rt.run(addOne, { amount: 1 }, [{ buffer: held, byteLength: bytes }], { n: size / 4 }, linearWorkgroups(size / 4, 64));
    rt.pool.release(held);
    const next = rt.pool.acquire(size);
    assert.notEqual(next, held, 'outside a warm-up, reuse waits for the submit again');
    rt.flush();
    rt.pool.release(next);
  });

  it('hands free buffers out lowest creation number first, whatever order they were released in', () => {
    const pool = new BufferPool(getRuntime().device);
    const bytes = 4096;
    const made = [pool.acquire(bytes), pool.acquire(bytes), pool.acquire(bytes), pool.acquire(bytes)];
    for (const i of [2, 0, 3, 1]) pool.release(made[i]!);
    pool.onSubmit();
    pool.release(pool.acquire(bytes)); // made[0] out and back, awaiting a submit
    pool.onSubmit();
    // (by index: deepEqual sees every GPUBuffer as equal, they have no own properties)
    assert.deepEqual([pool.acquire(bytes), pool.acquire(bytes), pool.acquire(bytes), pool.acquire(bytes)].map((b) => made.indexOf(b)), [0, 1, 2, 3]);
    assert.equal(pool.stats().buffersCreated, 4);
    for (const b of made) pool.release(b);
    pool.onSubmit();
    pool.trim();
  });

  it('makes a bind group once for the same kernel, buffers and sizes; uniforms differ per dispatch through the dynamic offset', async () => {
    const rt = getRuntime();
    const n = 256;
    // Buffers of its own, so no earlier test's cached group can match.
    const buffer = rt.device.createBuffer({ size: n * 4, usage: STORAGE_USAGE });
    const other = rt.device.createBuffer({ size: n * 4, usage: STORAGE_USAGE });
    rt.write({ buffer, byteLength: n * 4 }, new Float32Array(n));
    rt.write({ buffer: other, byteLength: n * 4 }, new Float32Array(n));
    const before = rt.counters.bindGroupsCreated;
    // Each dispatch covers all of `buffer` and adds 1 to the prefix its uniform n names: the
    // uniforms differ, the bind group does not.
    for (const m of [256, 128, 64, 256, 128]) rt.run(addOne, { amount: 1 }, [{ buffer, byteLength: n * 4 }], { n: m }, linearWorkgroups(n, 64));
    assert.equal(rt.counters.bindGroupsCreated - before, 1, 'one bind group for five dispatches');
    rt.run(addOne, { amount: 1 }, [{ buffer: other, byteLength: n * 4 }], { n }, linearWorkgroups(n, 64));
    rt.run(addOne, { amount: 1 }, [{ buffer, byteLength: 64 * 4 }], { n: 64 }, linearWorkgroups(n, 64));
    assert.equal(rt.counters.bindGroupsCreated - before, 3, 'another buffer, another binding size: new groups');
    const got = new Float32Array(await rt.read({ buffer, byteLength: n * 4 }));
    const want = Float32Array.from({ length: n }, (_, i) => (i < 64 ? 6 : i < 128 ? 4 : 2));
    assert.deepEqual([...got], [...want]);
    assert.deepEqual([...new Float32Array(await rt.read({ buffer: other, byteLength: n * 4 }))], new Array(n).fill(1));
    buffer.destroy();
    other.destroy();
  });
});

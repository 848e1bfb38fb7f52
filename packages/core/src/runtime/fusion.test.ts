import assert from 'node:assert/strict';
import { defineKernel, fusedKernel, type Kernel } from '@squeeze/kernels-wgsl';
import { getRuntime } from './global.js';
import { FusionGroups, type Dispatch } from './fusion.js';
import { allocTensor, type Tensor } from '../tensor.js';
import { tensor } from '../ops/creation/creation.js';

// Horizontal fusion: the grouping rules on their own (no GPU), then fused dispatches on the GPU
// against the same kernels dispatched one by one.

/** Writes every builtin a body can read, so a fused branch that rebuilds one wrongly shows up. */
const builtins = defineKernel<{ shape: [number, number, number] }>({
  name: 'test_builtins',
  bindings: () => [{ name: 'out', type: 'u32', access: 'read_write' }],
  uniforms: () => [{ name: 'extra', type: 'u32array', length: 3 }],
  workgroupSize: (p) => p.shape,
  prelude: () => 'fn pack(a: vec3<u32>) -> u32 { return a.x + 100u * a.y + 10000u * a.z; }',
  body: () => `
  let flatWg = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  let lanes = ${'u32(u.extra[0][0])'} * extra(1) * extra(2);
  let at = (flatWg * lanes + lindex) * 4u;
  out[at] = pack(gid);
  out[at + 1u] = pack(lid);
  out[at + 2u] = pack(wid) + 7u * lindex;
  out[at + 3u] = pack(nwg);`,
});

/** Reverses each workgroup's values through workgroup memory: a part that synchronises. */
const reverse = defineKernel<{ lanes: number }>({
  name: 'test_reverse',
  bindings: () => [{ name: 'src', type: 'f32', access: 'read' }, { name: 'dst', type: 'f32', access: 'read_write' }],
  workgroupSize: (p) => [p.lanes, 1, 1],
  prelude: (p) => `var<workgroup> tile: array<f32, ${p.lanes}>;\nfn pack(x: f32) -> f32 { return x; }`,
  body: (p) => `
  tile[lid.x] = src[gid.x];
  workgroupBarrier();
  dst[gid.x] = pack(tile[${p.lanes - 1}u - lid.x]) * 2.0;`,
});

/** dst = src + 1: a plain element-wise part. */
const addOne = defineKernel<{ lanes: number }>({
  name: 'test_add_one',
  bindings: () => [{ name: 'src', type: 'f32', access: 'read' }, { name: 'dst', type: 'f32', access: 'read_write' }],
  uniforms: () => [{ name: 'n', type: 'u32' }],
  workgroupSize: (p) => [p.lanes, 1, 1],
  body: () => 'if (gid.x < u.n) { dst[gid.x] = src[gid.x] + 1.0; }',
});

function fakeDispatch<P>(kernel: Kernel<P>, params: P, bindings: Array<{ buffer: object; byteLength: number; byteOffset?: number }>): Dispatch {
  return {
    kernel: kernel as Kernel<unknown>, params, key: kernel.key(params), bindings: bindings as Dispatch['bindings'],
    uniforms: {}, workgroups: [1, 1, 1], scope: '',
  };
}

describe('horizontal fusion', function () {
  // A few small pipelines compile; seconds on lavapipe, more on a loaded machine.
  this.timeout(300_000);

  describe('grouping (no GPU)', () => {
    const buf = () => ({ size: 1 << 20 });
    const emitted: Dispatch[] = [];
    const emit = (d: Dispatch) => { emitted.push(d); };
    const partsOf = (d: Dispatch): string[] => (d.kernel === fusedKernel ? (d.params as { parts: Array<{ kernel: Kernel<unknown> }> }).parts.map((p) => p.kernel.name) : [d.kernel.name]);

    it('fuses independent dispatches and starts a new group at a dependence', () => {
      emitted.length = 0;
      const g = new FusionGroups(10);
      const [a, b, c, d] = [buf(), buf(), buf(), buf()];
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: a, byteLength: 64 }, { buffer: b, byteLength: 64 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: a, byteLength: 64 }, { buffer: c, byteLength: 64 }]), emit); // reads a too: independent
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: b, byteLength: 64 }, { buffer: d, byteLength: 64 }]), emit); // reads b, written above
      g.flush(emit);
      assert.deepEqual(emitted.map(partsOf), [['test_add_one', 'test_add_one'], ['test_add_one']]);
    });

    it('tells disjoint ranges of one buffer from overlapping ones', () => {
      emitted.length = 0;
      const g = new FusionGroups(10);
      const [flat, x] = [buf(), buf()];
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: x, byteLength: 64 }, { buffer: flat, byteLength: 256, byteOffset: 0 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: x, byteLength: 64 }, { buffer: flat, byteLength: 256, byteOffset: 256 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: flat, byteLength: 4, byteOffset: 508 }, { buffer: buf(), byteLength: 64 }]), emit);
      g.flush(emit);
      assert.deepEqual(emitted.map((d) => partsOf(d).length), [2, 1]);
    });

    it('keeps a synchronising part\'s lanes, and the storage-buffer and part limits', () => {
      emitted.length = 0;
      const g = new FusionGroups(5);
      g.push(fakeDispatch(reverse, { lanes: 16 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit); // split over 4 workgroups of 16
      g.push(fakeDispatch(reverse, { lanes: 32 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit); // a second width that synchronises: no
      g.push(fakeDispatch(addOne, { lanes: 8 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 8 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit); // 3 + 2 + 2 > 5 buffers
      g.flush(emit);
      assert.deepEqual(emitted.map(partsOf), [['test_reverse', 'test_add_one'], ['test_reverse', 'test_add_one'], ['test_add_one']]);
      assert.equal((emitted[0]!.params as { lanes: number }).lanes, 16);
      assert.equal((emitted[1]!.params as { lanes: number }).lanes, 32);
    });

    it('puts at most one heavy (long) kernel in a fused dispatch', () => {
      emitted.length = 0;
      const long = defineKernel<{ id: number }>({
        name: 'test_long',
        bindings: () => [{ name: 'dst', type: 'f32', access: 'read_write' }],
        workgroupSize: () => [64, 1, 1],
        body: (p) => Array.from({ length: 600 }, (_, i) => `  dst[${i}u] = ${p.id}.0 + f32(gid.x) * ${i}.0;`).join('\n'),
      });
      const g = new FusionGroups(10);
      g.push(fakeDispatch(long, { id: 1 }, [{ buffer: buf(), byteLength: 64 }]), emit);
      g.push(fakeDispatch(addOne, { lanes: 64 }, [{ buffer: buf(), byteLength: 64 }, { buffer: buf(), byteLength: 64 }]), emit);
      g.push(fakeDispatch(long, { id: 2 }, [{ buffer: buf(), byteLength: 64 }]), emit);
      g.flush(emit);
      assert.deepEqual(emitted.map(partsOf), [['test_long', 'test_add_one'], ['test_long']]);
    });
  });

  describe('on the GPU', () => {
    let rt: ReturnType<typeof getRuntime>;
    let wasOn = false;
    // Fusion is off by default on a software adapter: these tests turn it on.
    before(() => { rt = getRuntime(); wasOn = rt.horizontalFusion; rt.horizontalFusion = true; });
    after(() => { rt.horizontalFusion = wasOn; });
    const range = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    /** Runs the kernels once fused (inside fuseIndependent) and once alone; returns both outputs and the fused dispatch count. */
    async function both(record: () => Tensor[]): Promise<{ fused: Array<Float32Array | Int32Array>; alone: Array<Float32Array | Int32Array>; dispatches: number }> {
      const before = rt.counters.dispatches;
      const fusedOut = rt.fuseIndependent(record);
      const dispatches = rt.counters.dispatches - before;
      const aloneOut = record();
      const read = (ts: Tensor[]) => Promise.all(ts.map((t) => t.data()));
      const result = { fused: await read(fusedOut), alone: await read(aloneOut), dispatches };
      for (const t of [...fusedOut, ...aloneOut]) t.dispose();
      return result;
    }

    it('rebuilds every builtin of parts split over, as wide as and narrower than the fused workgroup', async () => {
      // Lanes 16 (the synchronising part), 64 = 4 × 16 (split), 16 on a 3-D shape and 8 (idle lanes).
      const shapes: Array<[number, number, number]> = [[4, 16, 1], [2, 4, 2], [8, 1, 1]];
      const grids: Array<[number, number, number]> = [[3, 2, 2], [2, 3, 1], [5, 1, 2]];
      const src = tensor(range(16 * 6));
      const { fused, alone, dispatches } = await both(() => {
        const dst = allocTensor([16 * 6]);
        rt.run(reverse, { lanes: 16 }, [src, dst], {}, [6, 1, 1]);
        const outs = shapes.map((shape, i) => {
          const [gx, gy, gz] = grids[i]!;
          const out = allocTensor([4 * gx * gy * gz * shape[0] * shape[1] * shape[2]], 'i32');
          rt.run(builtins, { shape }, [out], { extra: shape }, grids[i]!);
          return out;
        });
        return [dst, ...outs];
      });
      assert.equal(dispatches, 1, 'four independent kernels, one dispatch');
      alone.forEach((want, i) => assert.deepEqual(fused[i], want, `output ${i}`));
      const want = range(16 * 6);
      for (let w = 0; w < 6; w++) for (let l = 0; l < 16; l++) assert.equal(alone[0]![16 * w + l], 2 * want[16 * w + 15 - l]!);
      src.dispose();
    });

    it('keeps dependent kernels apart and in order', async () => {
      const src = tensor(range(300));
      const { fused, alone, dispatches } = await both(() => {
        const a = allocTensor([300]);
        const b = allocTensor([300]);
        rt.run(addOne, { lanes: 64 }, [src, a], { n: 300 }, [5, 1, 1]);
        rt.run(addOne, { lanes: 64 }, [a, b], { n: 300 }, [5, 1, 1]);
        return [a, b];
      });
      assert.equal(dispatches, 2);
      assert.deepEqual(fused, alone);
      assert.deepEqual([...fused[1]!], [...range(300)].map((v) => v + 2));
      src.dispose();
    });

    it('spreads more than 65535 fused workgroups over two dimensions', async () => {
      const n = 40_000 * 64;
      const src = tensor(range(n));
      const { fused, alone, dispatches } = await both(() => {
        const a = allocTensor([n]);
        const b = allocTensor([n]);
        rt.run(addOne, { lanes: 64 }, [src, a], { n }, [40_000, 1, 1]);
        rt.run(addOne, { lanes: 64 }, [src, b], { n }, [40_000, 1, 1]);
        return [a, b];
      });
      assert.equal(dispatches, 1);
      assert.deepEqual(fused, alone);
      assert.equal(fused[1]![n - 1], range(n)[n - 1]! + 1);
      src.dispose();
    });
  });
});

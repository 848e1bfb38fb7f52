import assert from 'node:assert/strict';
import { defineKernel, uniformLayout, writeUniforms } from './kernel.js';

describe('kernel uniforms', () => {
  const kernel = defineKernel<{ withArray: boolean }>({
    name: 'uniform_layout_probe',
    bindings: () => [{ name: 'out', type: 'f32', access: 'read_write' }],
    uniforms: (p) => [
      { name: 'n', type: 'u32' }, { name: 'scale', type: 'f32' }, { name: 'delta', type: 'i32' },
      ...(p.withArray ? [{ name: 'dims', type: 'u32array' as const, length: 5 }] : []),
    ],
    workgroupSize: () => [1, 1, 1],
    body: () => '',
  });

  it('lays out the WGSL struct (u32 arrays first, as vec4 rows) and writes values at their offsets', () => {
    const layout = kernel.uniformLayout({ withArray: true })!;
    assert.deepEqual(layout, uniformLayout(kernel.uniforms!({ withArray: true })));
    // dims: 5 u32 → two vec4 rows (32 bytes); then n, scale, delta; the size rounded up to 16.
    assert.deepEqual(layout.fields.map((f) => [f.name, f.offset]), [['dims', 0], ['n', 32], ['scale', 36], ['delta', 40]]);
    assert.equal(layout.size, 48);
    const bytes = new Uint8Array(64).fill(0xee);
    const view = new DataView(bytes.buffer);
    writeUniforms(layout, { n: 7, scale: 0.5, delta: -3, dims: [1, 2, 3] }, view, 16, 'probe');
    assert.deepEqual([0, 1, 2].map((i) => view.getUint32(16 + 4 * i, true)), [1, 2, 3]);
    assert.equal(view.getUint32(16 + 32, true), 7);
    assert.equal(view.getFloat32(16 + 36, true), 0.5);
    assert.equal(view.getInt32(16 + 40, true), -3);
    // Bytes no value covers are the caller's (the runtime zeroes each slot first); before `at` untouched.
    assert.equal(view.getUint32(16 + 12, true), 0xeeeeeeee);
    assert.equal(bytes[15], 0xee);
  });

  it('has no layout without uniforms, and names the kernel and field when a value is missing or too long', () => {
    const bare = defineKernel<Record<string, never>>({ name: 'bare', bindings: () => [], workgroupSize: () => [1, 1, 1], body: () => '' });
    assert.equal(bare.uniformLayout({}), null);
    const layout = kernel.uniformLayout({ withArray: true })!;
    const view = new DataView(new ArrayBuffer(64));
    assert.throws(() => writeUniforms(layout, { n: 1, scale: 1, dims: [] }, view, 0, 'probe'), /kernel probe: missing uniform 'delta'/);
    assert.throws(() => writeUniforms(layout, { n: 1, scale: 1, delta: 0, dims: [1, 2, 3, 4, 5, 6] }, view, 0, 'probe'), /'dims' has 6 > 5 entries/);
  });
});

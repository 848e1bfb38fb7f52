import { defineKernel, linearIndex } from '../kernel.js';
import { ELEMENTWISE_WG } from '../elementwise/elementwise.js';

/** Bits of the hash compared against the drop threshold (an f32-exact fraction of 2^24). */
export const DROPOUT_HASH_BITS = 24;

/**
 * The per-element keep decision is a pure function of (seed, element index): a stateless hash, so
 * the backward pass regenerates the same mask instead of storing it. `lowbias32` (C. Wellons) mixes
 * the index; the seed is mixed separately and xor-ed in so different seeds give unrelated masks.
 */
export const DROPOUT_HASH_WGSL = `
fn lowbias32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u; h *= 0x7feb352du;
  h ^= h >> 15u; h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}
fn keepScale(i: u32) -> f32 {
  let h = lowbias32(lowbias32(i) ^ lowbias32(u.seed)) >> ${32 - DROPOUT_HASH_BITS}u;
  return select(0.0, u.scale, h >= u.threshold);
}`;

/**
 * ys = xs · keep(i) · scale, four elements per invocation: element i survives when its hash is at
 * least `threshold` (= p·2^24), and survivors are scaled by 1/(1−p). The backward pass runs the
 * same kernel on the upstream gradient with the same seed.
 */
export const dropoutKernel = defineKernel<Record<string, never>>({
  name: 'dropout',
  bindings: () => [
    { name: 'xs', type: 'vec4<f32>', access: 'read' },
    { name: 'ys', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'n4', type: 'u32' }, { name: 'seed', type: 'u32' }, { name: 'threshold', type: 'u32' }, { name: 'scale', type: 'f32' },
  ],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  prelude: () => DROPOUT_HASH_WGSL,
  body: () => `
  let v = ${linearIndex(ELEMENTWISE_WG)};
  if (v >= u.n4) { return; }
  let i = 4u * v;
  ys[v] = xs[v] * vec4<f32>(keepScale(i), keepScale(i + 1u), keepScale(i + 2u), keepScale(i + 3u));`,
});

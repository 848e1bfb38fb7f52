import { defineKernel, linearIndex } from '../kernel.js';
import { MAX_RANK } from '../elementwise/elementwise.js';

export const GATHER_WG = 64;

const GATHER_UNIFORMS = [
  { name: 'outShape', type: 'u32array', length: MAX_RANK },
  { name: 'xStrides', type: 'u32array', length: MAX_RANK },
  { name: 'indexStrides', type: 'u32array', length: MAX_RANK },
  { name: 'n', type: 'u32' },
  { name: 'rank', type: 'u32' },
  { name: 'axis', type: 'u32' },
  { name: 'axisLen', type: 'u32' },
  /** an index value whose reads receive no gradient (embedding's padding row; -1: none) */
  { name: 'skip', type: 'i32' },
] as const;

/**
 * WGSL: for output element `i`, `xo` (the input offset it reads) and `valid` (its index lies in
 * [0, axisLen)). Every axis but `axis` maps through `xStrides`; along `axis` the coordinate is
 * index[Σ c·indexStrides] (gather: the index has the output's shape; indexSelect: a vector read
 * along `axis` only).
 */
const LOCATE = `
  var rest = i;
  var xo = 0u;
  var io = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = outShape(u32(d));
    let c = rest % dim;
    rest = rest / dim;
    io += c * indexStrides(u32(d));
    if (u32(d) != u.axis) { xo += c * xStrides(u32(d)); }
  }
  let k = index[io];
  let valid = k >= 0 && u32(k) < u.axisLen;
  xo += select(0u, u32(k) * xStrides(u.axis), valid);`;

/** out[i] = x[locate(i)]; an index outside [0, axisLen) reads 0 (the op checks indices it can see). */
export const gatherKernel = defineKernel<Record<string, never>>({
  name: 'gather',
  bindings: () => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'index', type: 'i32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [...GATHER_UNIFORMS],
  workgroupSize: () => [GATHER_WG, 1, 1],
  body: () => `
  let i = ${linearIndex(GATHER_WG)};
  if (i >= u.n) { return; }${LOCATE}
  out[i] = select(0.0, xs[xo], valid);`,
});

/**
 * The gradient of a gather: dx[locate(i)] += g[i] (dx zeroed first). Several outputs may read one
 * input, so the add is an atomic compare-exchange loop on the float's bits (WGSL has no float
 * atomics); the order of the additions, and so the last bits of a sum, may vary between runs.
 */
export const scatterAddKernel = defineKernel<Record<string, never>>({
  name: 'scatter_add',
  bindings: () => [
    { name: 'gs', type: 'f32', access: 'read' },
    { name: 'index', type: 'i32', access: 'read' },
    { name: 'dx', type: 'atomic<u32>', access: 'read_write' },
  ],
  uniforms: () => [...GATHER_UNIFORMS],
  workgroupSize: () => [GATHER_WG, 1, 1],
  body: () => `
  let i = ${linearIndex(GATHER_WG)};
  if (i >= u.n) { return; }${LOCATE}
  if (!valid || k == u.skip) { return; }
  let v = gs[i];
  var old = atomicLoad(&dx[xo]);
  loop {
    let r = atomicCompareExchangeWeak(&dx[xo], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`,
});

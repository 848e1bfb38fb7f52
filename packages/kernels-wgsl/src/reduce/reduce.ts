import { defineKernel, linearIndex } from '../kernel.js';
import { MAX_RANK } from '../elementwise/elementwise.js';

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

const isArg = (op: ReduceOp): boolean => op === 'argmax' || op === 'argmin';
export const REDUCE_WG = 64;

/**
 * Reduces over any set of axes: one invocation per output element walks the reduced elements.
 * `keptShape`/`keptStrides` map the output index to the input offset of its first element,
 * `redShape`/`redStrides` enumerate the reduced axes. `scale` multiplies the result (mean = sum·1/n).
 */
export const reduceKernel = defineKernel<{ op: ReduceOp }>({
  name: 'reduce',
  bindings: (p) => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'ys', type: isArg(p.op) ? 'i32' : 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'keptShape', type: 'u32array', length: MAX_RANK },
    { name: 'keptStrides', type: 'u32array', length: MAX_RANK },
    { name: 'redShape', type: 'u32array', length: MAX_RANK },
    { name: 'redStrides', type: 'u32array', length: MAX_RANK },
    { name: 'nOut', type: 'u32' },
    { name: 'nRed', type: 'u32' },
    { name: 'keptRank', type: 'u32' },
    { name: 'redRank', type: 'u32' },
    { name: 'scale', type: 'f32' },
  ],
  workgroupSize: () => [REDUCE_WG, 1, 1],
  body: (p) => `
  let o = ${linearIndex(REDUCE_WG)};
  if (o >= u.nOut) { return; }
  var rest = o;
  var base = 0u;
  for (var d = i32(u.keptRank) - 1; d >= 0; d--) {
    let dim = keptShape(u32(d));
    base += (rest % dim) * keptStrides(u32(d));
    rest = rest / dim;
  }
  var acc = ${p.op === 'sum' ? '0.0' : p.op === 'min' ? '3.4028234e38' : '-3.4028234e38'};
  var best = 0u;
  for (var r = 0u; r < u.nRed; r++) {
    var rr = r;
    var off = base;
    for (var d = i32(u.redRank) - 1; d >= 0; d--) {
      let dim = redShape(u32(d));
      off += (rr % dim) * redStrides(u32(d));
      rr = rr / dim;
    }
    let v = xs[off];
    ${{ sum: 'acc += v;', min: 'acc = min(acc, v);', max: 'acc = max(acc, v);',
    argmax: 'if (v > acc || r == 0u) { acc = v; best = r; }', argmin: 'if (v < acc || r == 0u) { acc = v; best = r; }' }[p.op]}
  }
  ${isArg(p.op) ? 'ys[o] = i32(best);' : p.op === 'sum' ? 'ys[o] = acc * u.scale;' : 'ys[o] = acc;'}`,
});

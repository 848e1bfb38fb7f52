import { defineKernel, linearIndex } from '../kernel.js';
import { broadcastOffsets, ELEMENTWISE_WG, MAX_RANK } from './elementwise.js';

export interface WhereParams {
  /** dtype of the condition: any non-zero value selects `a`. */
  cond: 'f32' | 'i32';
  /** false: that branch is the constant 0 and has no binding (the gradient of `where`). */
  a: boolean;
  b: boolean;
}

/**
 * out = cond ? a : b with NumPy broadcasting: the output index is decomposed with `outShape` and
 * each operand is read through its strides (0 on broadcast axes), as `binaryBroadcastKernel`.
 */
export const whereKernel = defineKernel<WhereParams>({
  name: 'where',
  bindings: (p) => [
    { name: 'conds', type: p.cond, access: 'read' },
    ...(p.a ? [{ name: 'as_', type: 'f32', access: 'read' } as const] : []),
    ...(p.b ? [{ name: 'bs', type: 'f32', access: 'read' } as const] : []),
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'outShape', type: 'u32array', length: MAX_RANK },
    { name: 'cStrides', type: 'u32array', length: MAX_RANK },
    { name: 'aStrides', type: 'u32array', length: MAX_RANK },
    { name: 'bStrides', type: 'u32array', length: MAX_RANK },
    { name: 'n', type: 'u32' },
    { name: 'rank', type: 'u32' },
  ],
  workgroupSize: () => [ELEMENTWISE_WG, 1, 1],
  body: (p) => `
  let i = ${linearIndex(ELEMENTWISE_WG)};
  if (i >= u.n) { return; }
${broadcastOffsets(['c', 'a', 'b'])}
  out[i] = select(${p.b ? 'bs[ib]' : '0.0'}, ${p.a ? 'as_[ia]' : '0.0'}, conds[ic] != ${p.cond === 'f32' ? '0.0' : '0'});`,
});

import { defineKernel, linearIndex } from '../kernel.js';
import { MAX_RANK } from '../elementwise/elementwise.js';

/** Data-movement kernels behind permute, slice, concat and pad: one element (or vec4) per invocation. */
export const LAYOUT_WG = 64;

/** Elements (or vec4s) of the innermost axis one invocation of the strided copy moves. */
export const STRIDED_COPY_RUN = 16;

/**
 * ys[yOffset + Σ c_d·yStrides_d] = xs[xOffset + Σ c_d·xStrides_d] for every coordinate c of
 * `shape`. With `vec4`, every count, stride and offset is in vec4s (the host checked that the
 * innermost axis is contiguous on both sides and everything divides by 4). Each invocation moves a
 * run of up to STRIDED_COPY_RUN along the innermost axis, so the coordinate divisions (vector
 * integer division is scalarised on CPUs, so it cost more than the copy itself) happen once per run.
 * `n` = runs = (elements ÷ innermost extent) · `runsPerRow`. Specialised on the rank so that the index
 * arithmetic unrolls with constant uniform indices. `mode`: 'scalar' moves u32 elements (any dtype,
 * bit-exact); 'vec4' moves f32 vec4s; 'gatherVec4' (a transpose: only ys is contiguous along the
 * innermost axis) moves ys as vec4 built from four strided f32 loads of xs.
 */
export type StridedCopyMode = 'scalar' | 'vec4' | 'gatherVec4';

export const stridedCopyKernel = defineKernel<{ mode: StridedCopyMode; rank: number }>({
  name: 'strided_copy',
  bindings: (p) => [
    // scalars move as u32 so that any dtype's bit patterns are copied exactly
    { name: 'xs', type: p.mode === 'vec4' ? 'vec4<f32>' : p.mode === 'gatherVec4' ? 'f32' : 'u32', access: 'read' },
    { name: 'ys', type: p.mode === 'scalar' ? 'u32' : 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'shape', type: 'u32array', length: MAX_RANK },
    { name: 'xStrides', type: 'u32array', length: MAX_RANK },
    { name: 'yStrides', type: 'u32array', length: MAX_RANK },
    { name: 'n', type: 'u32' },
    { name: 'runsPerRow', type: 'u32' },
    { name: 'xOffset', type: 'u32' },
    { name: 'yOffset', type: 'u32' },
  ],
  workgroupSize: () => [LAYOUT_WG, 1, 1],
  body: (p) => {
    const inner = p.rank - 1;
    const lines = [
      `  let i = ${linearIndex(LAYOUT_WG)};`,
      '  if (i >= u.n) { return; }',
      `  let first = (i % u.runsPerRow) * ${STRIDED_COPY_RUN}u;`,
      '  var rest = i / u.runsPerRow;',
      `  var ix = u.xOffset + first * xStrides(${inner}u);`,
      `  var iy = u.yOffset + first * yStrides(${inner}u);`,
    ];
    for (let d = inner - 1; d >= 0; d--) {
      lines.push(`  { let c = rest % shape(${d}u); rest = rest / shape(${d}u); ix += c * xStrides(${d}u); iy += c * yStrides(${d}u); }`);
    }
    lines.push(`  let count = min(${STRIDED_COPY_RUN}u, shape(${inner}u) - first);`);
    if (p.mode === 'gatherVec4') {
      // Innermost counts are vec4s of ys (contiguous there) and xStrides(inner) is x's distance per
      // vec4; xs is read a scalar at a time: a transpose's four loads and one store per vec4.
      lines.push(`  let xe = xStrides(${inner}u) / 4u;`);
      lines.push(`  for (var k = 0u; k < count; k++) {`);
      lines.push(`    let x0 = ix + k * xStrides(${inner}u);`);
      lines.push('    ys[iy + k] = vec4<f32>(xs[x0], xs[x0 + xe], xs[x0 + 2u * xe], xs[x0 + 3u * xe]);');
      lines.push('  }');
    } else {
      lines.push(`  for (var k = 0u; k < count; k++) { ys[iy + k * yStrides(${inner}u)] = xs[ix + k * xStrides(${inner}u)]; }`);
    }
    return lines.join('\n');
  },
});

/**
 * Constant padding: ys (contiguous, `outShape`) takes xs (contiguous, `inShape`) at offset
 * `before` along each axis and `value` elsewhere.
 */
export const padKernel = defineKernel<Record<string, never>>({
  name: 'pad',
  bindings: () => [
    { name: 'xs', type: 'f32', access: 'read' },
    { name: 'ys', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'outShape', type: 'u32array', length: MAX_RANK },
    { name: 'inShape', type: 'u32array', length: MAX_RANK },
    { name: 'before', type: 'u32array', length: MAX_RANK },
    { name: 'n', type: 'u32' },
    { name: 'rank', type: 'u32' },
    { name: 'value', type: 'f32' },
  ],
  workgroupSize: () => [LAYOUT_WG, 1, 1],
  body: () => `
  let i = ${linearIndex(LAYOUT_WG)};
  if (i >= u.n) { return; }
  var rest = i;
  var ix = 0u;
  var stride = 1u;
  var inside = true;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = outShape(u32(d));
    // unsigned wrap-around makes coordinates left of the interior huge, so one compare suffices
    let c = rest % dim - before(u32(d));
    rest = rest / dim;
    inside = inside && c < inShape(u32(d));
    ix += c * stride;
    stride *= inShape(u32(d));
  }
  if (inside) { ys[i] = xs[ix]; } else { ys[i] = u.value; }`,
});

import { defineKernel, gridWorkgroupSize, LANES as lanes, range } from '../kernel.js';
import { statisticsBindings, statisticsEpilogue } from '../batchnorm/batchnorm.js';
import { BIAS_AT } from './gemm.js';
import { winogradMatrices, sandwich, ZERO4, fourChannels, type WinogradOutputTile, type WinogradInputParams } from './winograd-gemm.js';
import type { DataFormat } from '../kernel.js';

// Winograd-GEMM's backward passes: dy's transform, the filter gradient's output transform, and the adjoint backward-data's patch gradients and gather.

const transpose = (M: number[][]): number[][] => M[0]!.map((_, j) => M.map((row) => row[j]!));

/**
 * The filter gradient of F(m×m, 3×3), step 1 of 2: Z[ξ][t][o] = (A dY Aᵀ)[ξ], the gradient of the
 * forward's M for tile t (dY its m×m destination pixels, zero past Hd × Wd), four channels per
 * invocation, stored [α²][tiles][D4] as vec4s. With V the forward's input transform of x, the GEMM
 * P[ξ] = V[ξ]ᵀ · Z[ξ] sums over tiles, and winogradFilterGradKernel takes P back to 3×3 taps.
 * Dispatch gridWorkgroups(D4, TH·TW, N, workgroup).
 */
export const winogradDyKernel = defineKernel<WinogradInputParams>({
  name: 'conv2d_winograd_dy',
  bindings: (p) => [
    { name: 'dy', type: p.srcVec4 ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'z', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'Hd', type: 'u32' }, { name: 'Wd', type: 'u32' }, { name: 'Cd', type: 'u32' }, { name: 'D4', type: 'u32' },
    { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, AT, m } = winogradMatrices(p.m);
    const nchw = p.layout === 'NCHW';
    if (p.srcVec4 && nchw) throw new Error('conv2d_winograd_dy: vec4 loads are along NHWC channels');
    const L: string[] = [];
    L.push('let o4 = gid.x;', 'let r = gid.y;', 'let n = gid.z;', 'if (o4 >= u.D4 || r >= u.TH * u.TW) { return; }');
    L.push('let ty = r / u.TW;', 'let tx = r % u.TW;', 'let t = n * u.TH * u.TW + r;');
    const src = fourChannels(p.layout, p.srcVec4, 'dy', { c4: 'o4', C: 'u.Cd', C4: 'u.D4', H: 'u.Hd', W: 'u.Wd' });
    L.push(...src.decls);
    const g = range(m).map((i) => range(m).map((j) => `g${i}_${j}`));
    for (const i of range(m)) for (const j of range(m)) {
      const [py, px] = [`(ty * ${m}u + ${i}u)`, `(tx * ${m}u + ${j}u)`];
      L.push(`var g${i}_${j} = ${ZERO4};`, `if (${py} < u.Hd && ${px} < u.Wd) { g${i}_${j} = ${src.load(py, px)}; }`);
    }
    L.push(...sandwich(transpose(AT), g, 'e', 'Z', ZERO4));
    const plane = 'u.tiles * u.D4';
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`z[${i * alpha + j}u * ${plane} + t * u.D4 + o4] = Z${i}_${j};`);
    return L.map((l) => '  ' + l).join('\n');
  },
});

/**
 * Backward-data as the adjoint of the forward's passes (dx = Σ_tiles B (U ⊙ Z) Bᵀ), step 2 of 3: the
 * gradient of V, dV[ξ][t][s] = Σ_o Z[ξ][t][o]·U[ξ][s][o] (the GEMM, with the filter gradient's Z),
 * turned into each tile's α×α source-patch gradient P = B dV Bᵀ, in place ([α²][tiles][S4] vec4s).
 * Four channels per invocation. Dispatch gridWorkgroups(S4, TH·TW, N, workgroup).
 */
export const winogradInputGradKernel = defineKernel<{ m: WinogradOutputTile; workgroup: number }>({
  name: 'conv2d_winograd_input_grad',
  bindings: () => [{ name: 'v', type: 'vec4<f32>', access: 'read_write' }],
  uniforms: () => [{ name: 'S4', type: 'u32' }, { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' }],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, BT } = winogradMatrices(p.m);
    const L: string[] = [];
    L.push('let s4 = gid.x;', 'let r = gid.y;', 'let n = gid.z;', 'if (s4 >= u.S4 || r >= u.TH * u.TW) { return; }');
    L.push('let at = (n * u.TH * u.TW + r) * u.S4 + s4;', 'let plane = u.tiles * u.S4;');
    const dv = range(alpha).map((i) => range(alpha).map((j) => `dv${i}_${j}`));
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`let dv${i}_${j} = v[${i * alpha + j}u * plane + at];`);
    L.push(...sandwich(transpose(BT), dv, 'e', 'P', ZERO4));
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`v[${i * alpha + j}u * plane + at] = P${i}_${j};`);
    return L.map((l) => '  ' + l).join('\n');
  },
});

export interface WinogradGatherParams {
  m: WinogradOutputTile;
  layout: DataFormat;
  workgroup: number;
  /** NHWC with C % 4 == 0: one vec4 store per pixel. */
  dstVec4: boolean;
}

/**
 * Backward-data as the adjoint, step 3 of 3: dx[n, y, x, c] = Σ of the patch gradients P
 * (winogradInputGradKernel) of the tiles whose source patch covers (y, x) — the patch of tile
 * (ty, tx) starts at (ty·m − padTop, tx·m − padLeft), so at most two tiles per axis do. Four
 * channels per invocation, gathered (no atomics). Dispatch gridWorkgroups(S4, H·W, N, workgroup).
 */
export const winogradGatherKernel = defineKernel<WinogradGatherParams>({
  name: 'conv2d_winograd_gather',
  bindings: (p) => [
    { name: 'pt', type: 'vec4<f32>', access: 'read' },
    { name: 'dst', type: p.dstVec4 ? 'vec4<f32>' : 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'H', type: 'u32' }, { name: 'W', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'S4', type: 'u32' },
    { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
    { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, m } = winogradMatrices(p.m);
    const nchw = p.layout === 'NCHW';
    if (p.dstVec4 && nchw) throw new Error('conv2d_winograd_gather: vec4 stores are along NHWC channels');
    const L: string[] = [];
    L.push('let s4 = gid.x;', 'let hw = gid.y;', 'let n = gid.z;', 'if (s4 >= u.S4 || hw >= u.H * u.W) { return; }');
    L.push('let y = hw / u.W;', 'let x = hw % u.W;', 'let plane = u.tiles * u.S4;');
    // In padded coordinates the pixel sits at offset yp % m of tile yp / m, and at offset yp % m + m
    // of the tile before it, which covers it too while that offset is < α (yp % m < 2).
    L.push('let yp = y + u.padTop;', 'let xp = x + u.padLeft;');
    L.push(`let ty = yp / ${m}u;`, `let tx = xp / ${m}u;`, `let iy = yp % ${m}u;`, `let ix = xp % ${m}u;`);
    L.push('var acc = vec4<f32>(0.0);');
    for (const by of [0, 1]) for (const bx of [0, 1]) {
      const [tyb, iyb] = by ? ['(ty - 1u)', `(iy + ${m}u)`] : ['ty', 'iy'];
      const [txb, ixb] = bx ? ['(tx - 1u)', `(ix + ${m}u)`] : ['tx', 'ix'];
      const ok = [
        by ? `ty >= 1u && iy + ${m}u < ${alpha}u && ty - 1u < u.TH` : 'ty < u.TH',
        bx ? `tx >= 1u && ix + ${m}u < ${alpha}u && tx - 1u < u.TW` : 'tx < u.TW',
      ].join(' && ');
      L.push(`if (${ok}) { acc += pt[(${iyb} * ${alpha}u + ${ixb}) * plane + ((n * u.TH + ${tyb}) * u.TW + ${txb}) * u.S4 + s4]; }`);
    }
    if (p.dstVec4) {
      L.push('dst[((n * u.H + y) * u.W + x) * u.S4 + s4] = acc;');
    } else {
      for (const k of range(4)) {
        const at = nchw ? `((n * u.C + s4 * 4u + ${k}u) * u.H + y) * u.W + x` : `((n * u.H + y) * u.W + x) * u.C + s4 * 4u + ${k}u`;
        L.push(`if (s4 * 4u + ${k}u < u.C) { dst[${at}] = acc.${lanes[k]}; }`);
      }
    }
    return L.map((l) => '  ' + l).join('\n');
  },
});

/**
 * The filter gradient of F(m×m, 3×3), step 2 of 2: dw[o][c][kh][kw] = (Gᵀ P G)[kh][kw] with P
 * [α²][D][S4] vec4s along c (the GEMM Zᵀ·V over tiles: destination channels are its rows, since
 * they are the more numerous in the layers it serves and the GEMM spreads lanes over rows). One
 * invocation per (four c, o). Dispatch gridWorkgroups(S4, O, 1, workgroup).
 */
export const winogradFilterGradKernel = defineKernel<{ m: WinogradOutputTile; workgroup: number }>({
  name: 'conv2d_winograd_filter_grad',
  bindings: () => [
    { name: 'pp', type: 'vec4<f32>', access: 'read' },
    { name: 'dw', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [{ name: 'C', type: 'u32' }, { name: 'O', type: 'u32' }, { name: 'D', type: 'u32' }, { name: 'S4', type: 'u32' }],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, G } = winogradMatrices(p.m);
    const L: string[] = [];
    L.push('let c4 = gid.x;', 'let o = gid.y;', 'if (c4 >= u.S4 || o >= u.O) { return; }', 'let plane = u.D * u.S4;', 'let at = o * u.S4 + c4;');
    const P = range(alpha).map((i) => range(alpha).map((j) => `p${i}_${j}`));
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`let p${i}_${j} = pp[${i * alpha + j}u * plane + at];`);
    L.push(...sandwich(transpose(G), P, 'e', 'g', ZERO4));
    for (const k of range(4)) {
      L.push(`if (c4 * 4u + ${k}u < u.C) {`, `  let base = (o * u.C + c4 * 4u + ${k}u) * 9u;`);
      for (const r of range(3)) for (const s of range(3)) L.push(`  dw[base + ${r * 3 + s}u] = g${r}_${s}.${lanes[k]};`);
      L.push('}');
    }
    return L.map((l) => '  ' + l).join('\n');
  },
});

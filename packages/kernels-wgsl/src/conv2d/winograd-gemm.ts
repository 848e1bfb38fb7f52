import { defineKernel, gridWorkgroupSize, LANES as lanes, range } from '../kernel.js';
import { statisticsBindings, statisticsEpilogue, statisticsShiftRow } from '../batchnorm/batchnorm.js';
import { BIAS_AT } from './gemm.js';
import type { DataFormat } from '../kernel.js';

/**
 * Winograd F(m×m, 3×3) as three passes around a batched GEMM, for 3×3 stride-1 forward and
 * backward-data (the forward convolution of dy with the flipped, transposed filter):
 *
 *   V[ξ][t][s] = (Bᵀ d B)[ξ]   the α×α source patch d of tile t, channel s   (input transform)
 *   U[ξ][s][k] = (G g Gᵀ)[ξ]   the 3×3 filter g from source channel s to k      (filter transform)
 *   M[ξ]       = V[ξ] · U[ξ]   α² = (m + 2)² independent [tiles × S]·[S × K] GEMMs (core's gemm)
 *   Y          = Aᵀ M A        the m×m destination pixels of tile t             (output transform)
 *
 * and for the filter gradient Z = A dY Aᵀ (winogradDyKernel), P[ξ] = Z[ξ]ᵀ · V[ξ] summed over tiles
 * by the GEMM, dw = Gᵀ P G (winogradFilterGradKernel). Backward-data either runs the forward on dy
 * with the flipped filter, or as the forward's adjoint from the same Z: dV[ξ] = Z[ξ] · U[ξ]ᵀ (the
 * GEMM), each tile's patch gradient B dV Bᵀ (winogradInputGradKernel), the overlapping patches
 * gathered into dx (winogradGatherKernel). The fused kernel's filter transform is
 * winogradGemmFilterKernel with m = 2.
 *
 * Unlike the fused kernel (winograd.ts), whose filter loads are per lane on a software adapter, the
 * multiply-adds here run in the GEMM kernel with its subgroup-shared tiles, and m = 4 does 4× fewer
 * of them than the direct convolution (m = 2: 2.25×) at the cost of materialising V and M.
 * The matrices are data (`winogradMatrices`); the WGSL is generated from them, zero coefficients
 * skipped, so m = 2 and m = 4 are the same code.
 */
export type WinogradOutputTile = 2 | 4;

export interface WinogradMatrices {
  /** destination pixels per tile side. */
  m: WinogradOutputTile;
  /** source patch side, m + 2. */
  alpha: number;
  /** α × α input transform (Bᵀ). */
  BT: number[][];
  /** α × 3 filter transform. */
  G: number[][];
  /** m × α output transform (Aᵀ). */
  AT: number[][];
}

/** Lavin & Gray's matrices: F(2×2, 3×3) on the points 0, ±1, ∞; F(4×4, 3×3) on 0, ±1, ±2, ∞. */
export function winogradMatrices(m: WinogradOutputTile): WinogradMatrices {
  if (m === 2) {
    return {
      m, alpha: 4,
      BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
      G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
      AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
    };
  }
  if (m === 4) {
    return {
      m, alpha: 6,
      BT: [
        [4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1],
      ],
      G: [
        [1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1],
      ],
      AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    };
  }
  throw new Error(`winogradMatrices: output tile ${m as number} must be 2 or 4`);
}

/** Σ coeffs[k]·terms[k] as WGSL, zero terms left out (`zero` if all are). */
function linearCombination(coeffs: number[], terms: string[], zero: string): string {
  let s = '';
  coeffs.forEach((c, k) => {
    if (c === 0) return;
    const mag = Math.abs(c);
    const term = mag === 1 ? terms[k]! : `${wgslFloat(mag)} * ${terms[k]}`;
    s += s === '' ? (c < 0 ? `-${term}` : term) : (c < 0 ? ` - ${term}` : ` + ${term}`);
  });
  return s === '' ? zero : s;
}

const wgslFloat = (x: number): string => (Number.isInteger(x) ? `${x}.0` : `${x}`);

/**
 * WGSL lines computing out = L · X · Lᵀ for an r×c grid of named values X (L is q×r): first
 * T = L·X (q×c), then out = T·Lᵀ (q×q). Declares `${tmp}i_j` and `${out}i_j`.
 */
export function sandwich(L: number[][], X: string[][], tmp: string, out: string, zero: string): string[] {
  const lines: string[] = [];
  const cols = X[0]!.length;
  for (const i of range(L.length)) {
    for (const j of range(cols)) lines.push(`let ${tmp}${i}_${j} = ${linearCombination(L[i]!, X.map((row) => row[j]!), zero)};`);
  }
  for (const i of range(L.length)) {
    for (const j of range(L.length)) {
      lines.push(`let ${out}${i}_${j} = ${linearCombination(L[j]!, range(cols).map((k) => `${tmp}${i}_${k}`), zero)};`);
    }
  }
  return lines;
}

export const ZERO4 = 'vec4<f32>(0.0)';

/**
 * WGSL lines declaring `c0..c3` (clamped) and `cOk0..cOk3` for the four channels `c4·4 + k` of
 * `C` (the transforms take four channels per invocation), and a function of (y, x) giving the WGSL
 * expression that loads them at pixel (n, y, x) of `buf`, an H × W image with C channels in
 * `layout`: one vec4 load (NHWC, `vec4`: C % 4 == 0 and `C4` vec4s per pixel) or four masked scalars.
 */
export function fourChannels(layout: DataFormat, vec4: boolean, buf: string, s: { c4: string; C: string; C4: string; H: string; W: string }) {
  const decls = range(4).flatMap((k) => [`let c${k} = min(${s.c4} * 4u + ${k}u, ${s.C} - 1u);`, `let cOk${k} = ${s.c4} * 4u + ${k}u < ${s.C};`]);
  const load = (y: string, x: string): string => {
    const pix = `((n * ${s.H} + ${y}) * ${s.W} + ${x})`;
    if (vec4) return `${buf}[${pix} * ${s.C4} + ${s.c4}]`;
    const at = (k: number) => (layout === 'NCHW' ? `((n * ${s.C} + c${k}) * ${s.H} + ${y}) * ${s.W} + ${x}` : `${pix} * ${s.C} + c${k}`);
    return `vec4<f32>(${range(4).map((k) => `select(0.0, ${buf}[${at(k)}], cOk${k})`).join(', ')})`;
  };
  return { decls, load };
}

/**
 * U[ξ][a][b] = (G g Gᵀ)[ξ] with g the 3×3 filter w[o][c] read through `strideA`/`strideB` (forward:
 * a = in channel, b = out channel; backward-data: a = out, b = in) and, with `flip`, rotated by
 * 180°. Rows a ≥ A (up to `Apad`, the GEMM's K padded to 4) and columns b ≥ B are zero. Stored
 * [α²][Apad][row4] as vec4s along b. Dispatch gridWorkgroups(row4, Apad, 1, workgroup).
 */
export const winogradGemmFilterKernel = defineKernel<{ m: WinogradOutputTile; workgroup: number; flip: boolean }>({
  name: 'conv2d_winograd_gemm_filter',
  bindings: () => [
    { name: 'w', type: 'f32', access: 'read' },
    { name: 'wino', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'A', type: 'u32' }, { name: 'Apad', type: 'u32' }, { name: 'B', type: 'u32' }, { name: 'row4', type: 'u32' },
    { name: 'strideA', type: 'u32' }, { name: 'strideB', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, G } = winogradMatrices(p.m);
    const L: string[] = [];
    L.push('let b4 = gid.x;', 'let a = gid.y;', 'if (b4 >= u.row4 || a >= u.Apad) { return; }');
    L.push('let i = a * u.row4 + b4;', 'let aOk = a < u.A;', 'let aIn = min(a, u.A - 1u);');
    for (const k of range(4)) {
      L.push(`let ok${k} = aOk && b4 * 4u + ${k}u < u.B;`);
      L.push(`let at${k} = aIn * u.strideA + min(b4 * 4u + ${k}u, u.B - 1u) * u.strideB;`);
    }
    const g = range(3).map((r) => range(3).map((s) => `g${r}_${s}`));
    for (const r of range(3)) for (const s of range(3)) {
      const tap = p.flip ? 8 - (r * 3 + s) : r * 3 + s;
      L.push(`let g${r}_${s} = vec4<f32>(${range(4).map((k) => `select(0.0, w[at${k} + ${tap}u], ok${k})`).join(', ')});`);
    }
    L.push(...sandwich(G, g, 't', 'U', ZERO4));
    const plane = 'u.Apad * u.row4';
    for (const r of range(alpha)) for (const s of range(alpha)) L.push(`wino[${r * alpha + s}u * ${plane} + i] = U${r}_${s};`);
    return L.map((l) => '  ' + l).join('\n');
  },
});

export interface WinogradInputParams {
  m: WinogradOutputTile;
  layout: DataFormat;
  workgroup: number;
  /** NHWC with source channels % 4 == 0: one vec4 load per patch element. */
  srcVec4: boolean;
}

/**
 * V[ξ][t][s] = (Bᵀ d B)[ξ] for tile t = (n·TH + ty)·TW + tx, whose α×α source patch starts at
 * (ty·m − padTop, tx·m − padLeft), zero outside the source; four source channels per invocation,
 * stored [α²][tiles][S4] as vec4s (channels past Cs are zero, so the GEMM's K can be S4·4).
 * Dispatch gridWorkgroups(S4, TH·TW, N, workgroup).
 */
export const winogradInputKernel = defineKernel<WinogradInputParams>({
  name: 'conv2d_winograd_input',
  bindings: (p) => [
    { name: 'src', type: p.srcVec4 ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'v', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'Hs', type: 'u32' }, { name: 'Ws', type: 'u32' }, { name: 'Cs', type: 'u32' }, { name: 'S4', type: 'u32' },
    { name: 'padTop', type: 'i32' }, { name: 'padLeft', type: 'i32' },
    { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => {
    const { alpha, BT } = winogradMatrices(p.m);
    const nchw = p.layout === 'NCHW';
    if (p.srcVec4 && nchw) throw new Error('conv2d_winograd_input: vec4 loads are along NHWC channels');
    const L: string[] = [];
    L.push('let s4 = gid.x;', 'let r = gid.y;', 'let n = gid.z;', 'if (s4 >= u.S4 || r >= u.TH * u.TW) { return; }');
    L.push('let ty = r / u.TW;', 'let tx = r % u.TW;', 'let t = n * u.TH * u.TW + r;');
    for (const i of range(alpha)) {
      L.push(`let sy${i} = i32(ty * ${p.m}u + ${i}u) - u.padTop;`, `let ry${i} = sy${i} >= 0 && sy${i} < i32(u.Hs);`);
      L.push(`let sx${i} = i32(tx * ${p.m}u + ${i}u) - u.padLeft;`, `let rx${i} = sx${i} >= 0 && sx${i} < i32(u.Ws);`);
    }
    const src = fourChannels(p.layout, p.srcVec4, 'src', { c4: 's4', C: 'u.Cs', C4: 'u.S4', H: 'u.Hs', W: 'u.Ws' });
    L.push(...src.decls);
    const d = range(alpha).map((i) => range(alpha).map((j) => `d${i}_${j}`));
    for (const i of range(alpha)) for (const j of range(alpha)) {
      L.push(`var d${i}_${j} = ${ZERO4};`, `if (ry${i} && rx${j}) { d${i}_${j} = ${src.load(`u32(sy${i})`, `u32(sx${j})`)}; }`);
    }
    L.push(...sandwich(BT, d, 'e', 'V', ZERO4));
    const plane = 'u.tiles * u.S4';
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`v[${i * alpha + j}u * ${plane} + t * u.S4 + s4] = V${i}_${j};`);
    return L.map((l) => '  ' + l).join('\n');
  },
});

export interface WinogradOutputParams {
  m: WinogradOutputTile;
  layout: DataFormat;
  workgroup: number;
  bias: boolean;
  /** NHWC with destination channels % 4 == 0: one vec4 store per pixel. */
  dstVec4: boolean;
  /**
   * Cd % 4 == 0, either layout: also the batch-norm statistics of dst (batchnorm.ts's
   * statisticsEpilogue): per tile, Σ(y − shift) and Σ(y − shift)² per channel into `stats`
   * [2·tiles + 1, Cd], `shift` [Cd] being the batch norm's running mean, copied into the last row.
   */
  statistics?: boolean;
}

/**
 * dst = Aᵀ M A (+ bias) for tile t and four destination channels per invocation, M read as
 * [α²][tiles][D4] vec4s (the GEMM's output), the m×m pixels clipped to Hd × Wd.
 * Dispatch gridWorkgroups(D4, TH·TW, N, workgroup).
 */
export const winogradOutputKernel = defineKernel<WinogradOutputParams>({
  name: 'conv2d_winograd_output',
  bindings: (p) => [
    { name: 'mm', type: 'vec4<f32>', access: 'read' },
    ...(p.bias ? [{ name: 'bias', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'dst', type: p.dstVec4 ? 'vec4<f32>' : 'f32', access: 'read_write' },
    ...(p.statistics ? statisticsBindings() : []),
  ],
  uniforms: () => [
    { name: 'Hd', type: 'u32' }, { name: 'Wd', type: 'u32' }, { name: 'Cd', type: 'u32' }, { name: 'D4', type: 'u32' },
    { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' },
  ],
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  prelude: (p) => (p.bias ? BIAS_AT : ''),
  body: (p) => {
    const { alpha, AT, m } = winogradMatrices(p.m);
    const nchw = p.layout === 'NCHW';
    if (p.dstVec4 && nchw) throw new Error('conv2d_winograd_output: vec4 stores are along NHWC channels');
    const L: string[] = [];
    L.push('let o4 = gid.x;', 'let r = gid.y;', 'let n = gid.z;', 'if (o4 >= u.D4 || r >= u.TH * u.TW) { return; }');
    L.push('let ty = r / u.TW;', 'let tx = r % u.TW;', 'let t = n * u.TH * u.TW + r;', 'let plane = u.tiles * u.D4;');
    L.push('let at = t * u.D4 + o4;');
    const M = range(alpha).map((i) => range(alpha).map((j) => `m${i}_${j}`));
    for (const i of range(alpha)) for (const j of range(alpha)) L.push(`let m${i}_${j} = mm[${i * alpha + j}u * plane + at];`);
    L.push(...sandwich(AT, M, 'e', 'Y', ZERO4));
    L.push('let o = o4 * 4u;');
    L.push(`let b = vec4<f32>(${p.bias ? range(4).map((k) => `biasAt(o + ${k}u)`).join(', ') : '0.0'});`);
    if (p.statistics) L.push('let k = shift[o4];', 'var s1 = vec4<f32>(0.0);', 'var s2 = vec4<f32>(0.0);');
    for (const i of range(m)) for (const j of range(m)) {
      L.push(`let py${i}_${j} = ty * ${m}u + ${i}u;`, `let px${i}_${j} = tx * ${m}u + ${j}u;`);
      if (p.statistics) L.push(statisticsEpilogue('s1', 's2', `Y${i}_${j} + b`, 'k', `py${i}_${j} < u.Hd && px${i}_${j} < u.Wd`));
      L.push(`if (py${i}_${j} < u.Hd && px${i}_${j} < u.Wd) {`);
      L.push(`  let val = Y${i}_${j} + b;`);
      if (p.dstVec4) {
        L.push(`  dst[((n * u.Hd + py${i}_${j}) * u.Wd + px${i}_${j}) * u.D4 + o4] = val;`);
      } else {
        for (const k of range(4)) {
          const at = nchw
            ? `((n * u.Cd + o + ${k}u) * u.Hd + py${i}_${j}) * u.Wd + px${i}_${j}`
            : `((n * u.Hd + py${i}_${j}) * u.Wd + px${i}_${j}) * u.Cd + o + ${k}u`;
          L.push(`  if (o + ${k}u < u.Cd) { dst[${at}] = val.${lanes[k]}; }`);
        }
      }
      L.push('}');
    }
    if (p.statistics) L.push('stats[t * u.D4 + o4] = s1;', 'stats[(u.tiles + t) * u.D4 + o4] = s2;', statisticsShiftRow('k', 'o4', 'u.tiles', 'u.D4', 't == 0u'));
    return L.map((l) => '  ' + l).join('\n');
  },
});

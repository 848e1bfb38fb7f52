import { defineKernel, LANES as lanes, range } from '../kernel.js';
import { BIAS_AT } from './gemm.js';
import type { DataFormat } from '../kernel.js';

/**
 * Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 (forward, and backward-data as the
 * forward convolution of dy with the flipped, transposed filter): each invocation turns a 4×4
 * source patch into 2×2 destination pixels with 16 multiply-adds per source channel and
 * destination channel, where the implicit GEMM needs 36 — 2.25× fewer. The input transform
 * (Bᵀ d B) is done in registers per channel, the output transform (Aᵀ M A) once at the end, so
 * nothing but the transformed filter is materialised.
 *
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1]
 */

export interface ConvWinogradParams {
  layout: DataFormat;
  /** destination channels per invocation (a multiple of 4). */
  tileChannels: number;
  workgroup: number;
  /** source channels per step of the channel loop (1 or 2); the remainder runs one at a time. */
  unroll: number;
  /** NHWC with destination channels % 4 == 0: vec4 stores along channels. */
  dstVec4: boolean;
  bias: boolean;
}

/**
 * dst[n, y, x, d] = Σ_{s, i, j < 3} src[n, y + i − padTop, x + j − padLeft, s] · g[s, d][i][j],
 * zero outside the source, for one 2×2 destination tile × `tileChannels` channels per invocation.
 * `wino` is winogradGemmFilterKernel's output for m = 2 (rows a = source channels, Apad = Cs). Uniforms: source (Hs, Ws, Cs) and destination
 * (Hd, Wd, Cd) sizes, padTop/padLeft (i32: backward-data may shift either way), tile rows/columns
 * TH/TW, `tiles` = N·TH·TW, `row4` = vec4s per filter row, `plane4` = vec4s per grid position.
 * Dispatch [ceil(tiles / workgroup), channel tiles, 1].
 */
export const convWinogradKernel = defineKernel<ConvWinogradParams>({
  name: 'conv2d_winograd',
  bindings: (p) => [
    { name: 'src', type: 'f32', access: 'read' },
    { name: 'wino', type: 'vec4<f32>', access: 'read' },
    ...(p.bias ? [{ name: 'bias', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'dst', type: p.dstVec4 ? 'vec4<f32>' : 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'Hs', type: 'u32' }, { name: 'Ws', type: 'u32' }, { name: 'Cs', type: 'u32' },
    { name: 'Hd', type: 'u32' }, { name: 'Wd', type: 'u32' }, { name: 'Cd', type: 'u32' },
    { name: 'padTop', type: 'i32' }, { name: 'padLeft', type: 'i32' },
    { name: 'TH', type: 'u32' }, { name: 'TW', type: 'u32' }, { name: 'tiles', type: 'u32' },
    { name: 'row4', type: 'u32' }, { name: 'plane4', type: 'u32' },
  ],
  workgroupSize: (p) => [p.workgroup, 1, 1],
  prelude: (p) => (p.bias ? BIAS_AT : ''),
  body: (p) => winogradBody(p),
});

function winogradBody(p: ConvWinogradParams): string {
  const TO4 = p.tileChannels / 4;
  if (p.tileChannels % 4 !== 0) throw new Error(`conv2d_winograd: ${p.tileChannels} channels per invocation must be a multiple of 4`);
  if (![1, 2].includes(p.unroll)) throw new Error(`conv2d_winograd: unroll ${p.unroll} must be 1 or 2`);
  const cols = range(TO4);
  const grid = range(4);
  const pos = range(16);
  const nchw = p.layout === 'NCHW';
  const L: string[] = [];
  // Lanes spread over tiles; the channel tile is the workgroup's (wid.y): every lane of a workgroup
  // reads the same filter rows.
  L.push(`let t = wid.x * ${p.workgroup}u + lid.x;`, 'if (t >= u.tiles) { return; }');
  L.push('let n = t / (u.TH * u.TW);', 'let r = t % (u.TH * u.TW);', 'let ty = r / u.TW;', 'let tx = r % u.TW;');
  L.push(`let og0 = wid.y * ${TO4}u;`);
  // The 4×4 source patch: offsets of its rows and columns (clamped, masked where outside).
  for (const i of grid) {
    L.push(`let sy${i} = i32(ty * 2u + ${i}u) - u.padTop;`, `let ry${i} = sy${i} >= 0 && sy${i} < i32(u.Hs);`);
    L.push(`let sx${i} = i32(tx * 2u + ${i}u) - u.padLeft;`, `let rx${i} = sx${i} >= 0 && sx${i} < i32(u.Ws);`);
    L.push(nchw
      ? `let rowOff${i} = select(0u, u32(sy${i}) * u.Ws, ry${i});`
      : `let rowOff${i} = select(0u, (n * u.Hs + u32(sy${i})) * u.Ws * u.Cs, ry${i});`);
    L.push(nchw ? `let colOff${i} = select(0u, u32(sx${i}), rx${i});` : `let colOff${i} = select(0u, u32(sx${i}) * u.Cs, rx${i});`);
  }
  for (const i of grid) for (const j of grid) L.push(`let off${i}${j} = rowOff${i} + colOff${j};`, `let ok${i}${j} = ry${i} && rx${j};`);
  for (const q of pos) for (const j of cols) L.push(`var m${q}_${j} = vec4<f32>(0.0);`);
  L.push(nchw ? 'let channelStride = u.Hs * u.Ws;' : 'let channelStride = 1u;');
  L.push(nchw ? 'var base = n * u.Cs * channelStride;' : 'var base = 0u;');
  L.push('var wIdx = og0;');

  // One step over U source channels: load and transform each channel's patch (V = Bᵀ d B), then
  // each accumulator takes the sum of its U products in one write (see gemm.ts on lavapipe's
  // blends of loop-carried values).
  const step = (U: number): string[] => {
    const S: string[] = [];
    for (const q of range(U)) {
      const at = q === 0 ? 'base' : `base + ${q}u * channelStride`;
      for (const i of grid) for (const j of grid) S.push(`  let d${q}_${i}${j} = select(0.0, src[${at} + off${i}${j}], ok${i}${j});`);
      // Rows: t = Bᵀ d; then columns: V = t B.
      for (const j of grid) {
        S.push(`  let e${q}_0${j} = d${q}_0${j} - d${q}_2${j};`, `  let e${q}_1${j} = d${q}_1${j} + d${q}_2${j};`);
        S.push(`  let e${q}_2${j} = d${q}_2${j} - d${q}_1${j};`, `  let e${q}_3${j} = d${q}_1${j} - d${q}_3${j};`);
      }
      for (const i of grid) {
        S.push(`  let v${q}_${i * 4} = e${q}_${i}0 - e${q}_${i}2;`, `  let v${q}_${i * 4 + 1} = e${q}_${i}1 + e${q}_${i}2;`);
        S.push(`  let v${q}_${i * 4 + 2} = e${q}_${i}2 - e${q}_${i}1;`, `  let v${q}_${i * 4 + 3} = e${q}_${i}1 - e${q}_${i}3;`);
      }
    }
    for (const k of pos) {
      for (const j of cols) {
        const terms = range(U).map((q) => `vec4<f32>(v${q}_${k}) * wino[wIdx + ${k}u * u.plane4 + ${q === 0 ? '' : `${q}u * u.row4 + `}${j}u]`);
        S.push(U === 1
          ? `  m${k}_${j} = fma(vec4<f32>(v0_${k}), wino[wIdx + ${k}u * u.plane4 + ${j}u], m${k}_${j});`
          : `  m${k}_${j} = m${k}_${j} + (${terms.join(' + ')});`);
      }
    }
    S.push(`  wIdx += ${U === 1 ? '' : `${U}u * `}u.row4;`, `  base += ${U === 1 ? '' : `${U}u * `}channelStride;`);
    return S;
  };
  if (p.unroll === 1) {
    L.push('for (var c = 0u; c < u.Cs; c++) {', ...step(1), '}');
  } else {
    L.push('var c = 0u;', `for (; c + ${p.unroll}u <= u.Cs; c += ${p.unroll}u) {`, ...step(p.unroll), '}');
    L.push('for (; c < u.Cs; c++) {', ...step(1), '}');
  }

  // Output transform Y = Aᵀ M A per vec4 of channels, bias, and the stores of the 2×2 tile.
  for (const j of cols) {
    for (const k of grid) {
      L.push(`let s0${k}_${j} = m${k}_${j} + m${4 + k}_${j} + m${8 + k}_${j};`);
      L.push(`let s1${k}_${j} = m${4 + k}_${j} - m${8 + k}_${j} - m${12 + k}_${j};`);
    }
    L.push(`let o${j} = (og0 + ${j}u) * 4u;`);
    L.push(`let b${j} = vec4<f32>(${p.bias ? range(4).map((k) => `biasAt(o${j} + ${k}u)`).join(', ') : '0.0'});`);
    for (const a of range(2)) {
      L.push(`let y${a}0_${j} = s${a}0_${j} + s${a}1_${j} + s${a}2_${j} + b${j};`);
      L.push(`let y${a}1_${j} = s${a}1_${j} - s${a}2_${j} - s${a}3_${j} + b${j};`);
    }
  }
  for (const a of range(2)) {
    for (const b of range(2)) {
      L.push(`let dy${a}${b} = ty * 2u + ${a}u;`, `let dx${a}${b} = tx * 2u + ${b}u;`);
      L.push(`if (dy${a}${b} < u.Hd && dx${a}${b} < u.Wd) {`);
      for (const j of cols) {
        if (nchw) {
          for (const k of range(4)) {
            L.push(`  if (o${j} + ${k}u < u.Cd) { dst[((n * u.Cd + o${j} + ${k}u) * u.Hd + dy${a}${b}) * u.Wd + dx${a}${b}] = y${a}${b}_${j}.${lanes[k]}; }`);
          }
        } else if (p.dstVec4) {
          L.push(`  if (o${j} < u.Cd) { dst[((n * u.Hd + dy${a}${b}) * u.Wd + dx${a}${b}) * (u.Cd / 4u) + og0 + ${j}u] = y${a}${b}_${j}; }`);
        } else {
          for (const k of range(4)) {
            L.push(`  if (o${j} + ${k}u < u.Cd) { dst[((n * u.Hd + dy${a}${b}) * u.Wd + dx${a}${b}) * u.Cd + o${j} + ${k}u] = y${a}${b}_${j}.${lanes[k]}; }`);
          }
        }
      }
      L.push('}');
    }
  }
  return L.map((l) => '  ' + l).join('\n');
}

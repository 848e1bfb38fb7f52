import { defineKernel, linearIndex, range } from '../kernel.js';

/**
 * Filter gradient of a convolution whose whole patch is small — K = C·KH·KW floats, e.g. a first
 * layer's 2×2 kernel over 3 colour channels (SqueezeNet's conv1: K = 12) — in NHWC. Each invocation
 * accumulates all K rows of the gradient for `tileOut` output channels over a chunk of pixels, so a
 * dy row is loaded once per pixel and multiplied by the whole patch. The per-tap kernel
 * (`conv2d_filter_partial`) loads it once per tap and, with C = 3, fills a quarter of its 4-channel
 * rows with clamped duplicates.
 *
 * dy comes from one of two places:
 * - 'tensor': dy [N·OH·OW, O] as given.
 * - 'bnReluMaxPool': the backward of maxPool(relu(batchNorm(y))) over the convolution's output y
 *   (bn-relu-maxpool.ts), computed on the fly so that the full-size gradient is never written and
 *   read back: per pooled pixel the pooled gradient g and the saved window position are loaded
 *   once; at each of the window's pixels dy = k·g' + k2·y + k3, with g' = g where the window's
 *   maximum sat there and the ReLU was active (y·scale + shift > 0), else 0.
 *
 * Output: partial[chunk][tap][c][o] as `conv2d_filter_partial` writes it, so `conv2d_partial_sum`
 * turns it into [O, C, KH, KW].
 */
export type FilterPatchSource = 'tensor' | 'bnReluMaxPool';

export interface FilterPatchParams {
  /** source channels and kernel size: the patch is unrolled (C·KH·KW accumulator rows). */
  C: number; KH: number; KW: number;
  /** output channels per invocation (a multiple of 4; O % 4 == 0 is required). */
  tileOut: number;
  workgroup: number;
  dy: FilterPatchSource;
  /** 'bnReluMaxPool': the pool window (it tiles y exactly: kernel == stride, no padding); 'tensor': 1×1. */
  windowH: number; windowW: number;
}

/** The largest patch (C·KH·KW) the kernel unrolls: its accumulators are patch × tileOut / 4 vec4s. */
export const FILTER_PATCH_MAX = 16;

/** Parameter-table rows (bn-relu-maxpool.ts / batchnorm.ts): scale, shift; coefficient rows k, k2, k3. */
const SCALE_ROW = 2;
const SHIFT_ROW = 3;

export const convFilterPatchKernel = defineKernel<FilterPatchParams>({
  name: 'conv2d_filter_patch',
  bindings: (p) => [
    { name: 'x', type: 'f32', access: 'read' },
    ...(p.dy === 'tensor'
      ? [{ name: 'dy', type: 'vec4<f32>' as const, access: 'read' as const }]
      : [
          /** the convolution's output y [N·OH·OW, O] */
          { name: 'ys', type: 'vec4<f32>' as const, access: 'read' as const },
          /** pooled gradient and window positions [rows, O] */
          { name: 'gs', type: 'vec4<f32>' as const, access: 'read' as const },
          { name: 'positions', type: 'vec4<f32>' as const, access: 'read' as const },
          /** batch-norm parameter table [4, O] and dx coefficients [3, O] */
          { name: 'params', type: 'vec4<f32>' as const, access: 'read' as const },
          { name: 'coefs', type: 'vec4<f32>' as const, access: 'read' as const },
        ]),
    { name: 'partial', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'H', type: 'u32' }, { name: 'W', type: 'u32' }, { name: 'O4', type: 'u32' },
    { name: 'OH', type: 'u32' }, { name: 'OW', type: 'u32' },
    { name: 'strideH', type: 'u32' }, { name: 'strideW', type: 'u32' },
    { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
    /** the pixels the loop walks: pooled (N·PH·PW) or, for 'tensor', the convolution's N·OH·OW */
    { name: 'rows', type: 'u32' }, { name: 'PH', type: 'u32' }, { name: 'PW', type: 'u32' },
    { name: 'chunk', type: 'u32' }, { name: 'outTiles', type: 'u32' }, { name: 'total', type: 'u32' },
  ],
  workgroupSize: (p) => [p.workgroup, 1, 1],
  body: (p) => filterPatchBody(p),
});

function filterPatchBody(p: FilterPatchParams): string {
  if (p.tileOut % 4 !== 0) throw new Error(`conv2d_filter_patch: tileOut ${p.tileOut} must be a multiple of 4`);
  if (p.C * p.KH * p.KW > FILTER_PATCH_MAX) throw new Error(`conv2d_filter_patch: patch ${p.C}·${p.KH}·${p.KW} exceeds ${FILTER_PATCH_MAX}`);
  if (p.dy === 'tensor' && (p.windowH !== 1 || p.windowW !== 1)) throw new Error('conv2d_filter_patch: a given dy has no pool window');
  const cols = range(p.tileOut / 4);
  const taps = range(p.KH * p.KW);
  const chans = range(p.C);
  const bn = p.dy === 'bnReluMaxPool';
  const L: string[] = [];
  L.push(`let t = ${linearIndex(p.workgroup)};`, 'if (t >= u.total) { return; }');
  L.push('let ot = t % u.outTiles;', 'let chunk = t / u.outTiles;');
  // Columns past O (the last tile of an O that tileOut does not divide) load the last real column;
  // they are stored into the partial's padding, which the sum never reads.
  for (const q of cols) L.push(`let col${q} = min(ot * ${cols.length}u + ${q}u, u.O4 - 1u);`);
  if (bn) {
    for (const q of cols) {
      L.push(`let sc${q} = params[${SCALE_ROW}u * u.O4 + col${q}];`, `let sh${q} = params[${SHIFT_ROW}u * u.O4 + col${q}];`);
      L.push(`let k${q} = coefs[col${q}];`, `let kb${q} = coefs[u.O4 + col${q}];`, `let kc${q} = coefs[2u * u.O4 + col${q}];`);
    }
  }
  for (const tap of taps) for (const c of chans) for (const q of cols) L.push(`var acc${tap}_${c}_${q} = vec4<f32>(0.0);`);
  L.push('let rStart = chunk * u.chunk;', 'let rEnd = min(rStart + u.chunk, u.rows);');
  // (n, py, px): the walked pixel, advanced without division.
  L.push('var px = rStart % u.PW;', 'var py = (rStart / u.PW) % u.PH;', 'var n = rStart / (u.PW * u.PH);');
  L.push('for (var r = rStart; r < rEnd; r++) {');
  const B: string[] = [];
  if (bn) for (const q of cols) B.push(`let g${q} = gs[r * u.O4 + col${q}];`, `let pos${q} = positions[r * u.O4 + col${q}];`);
  for (const wy of range(p.windowH)) {
    for (const wx of range(p.windowW)) {
      const w = `${wy}_${wx}`;
      B.push(`let oy${w} = py * ${p.windowH}u + ${wy}u;`, `let ox${w} = px * ${p.windowW}u + ${wx}u;`);
      B.push(`let pix${w} = (n * u.OH + oy${w}) * u.OW + ox${w};`);
      for (const q of cols) {
        if (!bn) { B.push(`let d${w}_${q} = dy[pix${w} * u.O4 + col${q}];`); continue; }
        B.push(`let y${w}_${q} = ys[pix${w} * u.O4 + col${q}];`);
        B.push(`let hit${w}_${q} = (pos${q} == vec4<f32>(${(wy * p.windowW + wx).toFixed(1)})) & (y${w}_${q} * sc${q} + sh${q} > vec4<f32>(0.0));`);
        B.push(`let d${w}_${q} = k${q} * select(vec4<f32>(0.0), g${q}, hit${w}_${q}) + kb${q} * y${w}_${q} + kc${q};`);
      }
      // The patch: source pixel of each tap (zero outside the image), its C channels as scalars.
      for (const tap of taps) {
        const [i, j] = [Math.floor(tap / p.KW), tap % p.KW];
        B.push(`let sy${w}_${tap} = i32(oy${w} * u.strideH + ${i}u) - i32(u.padTop);`);
        B.push(`let sx${w}_${tap} = i32(ox${w} * u.strideW + ${j}u) - i32(u.padLeft);`);
        B.push(`let ok${w}_${tap} = sy${w}_${tap} >= 0 && sy${w}_${tap} < i32(u.H) && sx${w}_${tap} >= 0 && sx${w}_${tap} < i32(u.W);`);
        B.push(`let at${w}_${tap} = select(0u, ((n * u.H + u32(sy${w}_${tap})) * u.W + u32(sx${w}_${tap})) * ${p.C}u, ok${w}_${tap});`);
        for (const c of chans) {
          B.push(`let v${w}_${tap}_${c} = vec4<f32>(select(0.0, x[at${w}_${tap} + ${c}u], ok${w}_${tap}));`);
          for (const q of cols) B.push(`acc${tap}_${c}_${q} = fma(v${w}_${tap}_${c}, d${w}_${q}, acc${tap}_${c}_${q});`);
        }
      }
    }
  }
  B.push('px += 1u;', 'if (px == u.PW) { px = 0u; py += 1u; if (py == u.PH) { py = 0u; n += 1u; } }');
  L.push(...B.map((l) => '  ' + l), '}');
  L.push(`let rowVec4s = u.outTiles * ${cols.length}u;`);
  for (const tap of taps) for (const c of chans) {
    const row = `(chunk * ${taps.length}u + ${tap}u) * ${p.C}u + ${c}u`;
    for (const q of cols) L.push(`partial[(${row}) * rowVec4s + ot * ${cols.length}u + ${q}u] = acc${tap}_${c}_${q};`);
  }
  return L.map((l) => '  ' + l).join('\n');
}

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
  /**
   * The convolution's stride is 1 both ways: a window's neighbouring pixels share source pixels
   * (a 2×2 window of a 2×2 kernel reads 3×3 of them, not 4·4), each then loaded once.
   */
  unitStride?: boolean;
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
  const windowPixels = range(p.windowH).flatMap((wy) => range(p.windowW).map((wx) => [wy, wx] as const));
  // The source pixel of window pixel (wy, wx) at tap (i, j) (zero outside the image), named by its
  // offset from the window's first source row and column where the stride is 1 (shared, loaded once).
  const loaded = new Set<string>();
  const source = (wy: number, wx: number, i: number, j: number): string => {
    const name = p.unitStride ? `${wy + i}_${wx + j}` : `${wy}_${wx}_${i}_${j}`;
    if (loaded.has(name)) return name;
    loaded.add(name);
    const [dy0, dx0] = p.unitStride ? [wy + i, wx + j] : [wy, wx];
    const [ti, tj] = p.unitStride ? [0, 0] : [i, j];
    B.push(`let sy${name} = i32((py * ${p.windowH}u + ${dy0}u) * u.strideH + ${ti}u) - i32(u.padTop);`);
    B.push(`let sx${name} = i32((px * ${p.windowW}u + ${dx0}u) * u.strideW + ${tj}u) - i32(u.padLeft);`);
    B.push(`let ok${name} = sy${name} >= 0 && sy${name} < i32(u.H) && sx${name} >= 0 && sx${name} < i32(u.W);`);
    B.push(`let at${name} = select(0u, ((n * u.H + u32(sy${name})) * u.W + u32(sx${name})) * ${p.C}u, ok${name});`);
    for (const c of chans) B.push(`let v${name}_${c} = vec4<f32>(select(0.0, x[at${name} + ${c}u], ok${name}));`);
    return name;
  };
  for (const [wy, wx] of windowPixels) {
    const w = `${wy}_${wx}`;
    B.push(`let pix${w} = (n * u.OH + py * ${p.windowH}u + ${wy}u) * u.OW + px * ${p.windowW}u + ${wx}u;`);
    for (const q of cols) {
      if (!bn) { B.push(`let d${w}_${q} = dy[pix${w} * u.O4 + col${q}];`); continue; }
      B.push(`let y${w}_${q} = ys[pix${w} * u.O4 + col${q}];`);
      B.push(`let hit${w}_${q} = (pos${q} == vec4<f32>(${(wy * p.windowW + wx).toFixed(1)})) & (y${w}_${q} * sc${q} + sh${q} > vec4<f32>(0.0));`);
      B.push(`let d${w}_${q} = k${q} * select(vec4<f32>(0.0), g${q}, hit${w}_${q}) + kb${q} * y${w}_${q} + kc${q};`);
    }
  }
  const sources = windowPixels.map(([wy, wx]) => taps.map((tap) => source(wy, wx, Math.floor(tap / p.KW), tap % p.KW)));
  // Each accumulator written once per step, its window pixels' products chained: lavapipe blends
  // every write of a loop-carried value with the lane mask.
  for (const tap of taps) for (const c of chans) for (const q of cols) {
    const chain = windowPixels.reduce((acc, [wy, wx], k) => `fma(v${sources[k]![tap]}_${c}, d${wy}_${wx}_${q}, ${acc})`, `acc${tap}_${c}_${q}`);
    B.push(`acc${tap}_${c}_${q} = ${chain};`);
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

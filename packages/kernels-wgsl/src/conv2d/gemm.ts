import { defineKernel, fromSubgroupSlots, gridWorkgroupSize, LANES as lanes, linearIndex, pairSum, range } from '../kernel.js';
import { statisticsBindings, statisticsEpilogue, statisticsShiftRow } from '../batchnorm/batchnorm.js';
import type { DataFormat } from '../kernel.js';

/**
 * The fast convolution kernels: implicit GEMMs (im2col is never materialised) where each invocation
 * accumulates a register tile — no workgroup memory and no barriers, which is what a software
 * adapter such as lavapipe runs well (see tuning.ts). 1×1 convolutions with stride 1 and no padding
 * skip all tap arithmetic and run as a plain GEMM.
 */

/**
 * Weight reorder for the GEMMs: wmat[tap][a][b] (b padded with zeros to `BPad`) from w[o][c][kh][kw]
 * read through `strideA`/`strideB`. Forward: a = in channel, b = out channel; backward-data: a = out
 * channel, b = in channel. Rows of vec4 along b let the GEMM load four weights at once.
 */
export const convWeightMatrixKernel = defineKernel<{ workgroup: number }>({
  name: 'conv2d_weight_matrix',
  bindings: () => [
    { name: 'w', type: 'f32', access: 'read' },
    { name: 'wmat', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'A', type: 'u32' }, { name: 'B', type: 'u32' }, { name: 'row4', type: 'u32' },
    { name: 'strideA', type: 'u32' }, { name: 'strideB', type: 'u32' },
  ],
  // One vec4 of a row per invocation (BPad % 4 == 0) on a grid (kernel.ts; x: vec4 of the row,
  // y: a, z: tap): dividing a linear index per element is scalarised on lavapipe, which made this small pass costly.
  // Dispatch gridWorkgroups(row4, A, taps, workgroup).
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: () => `
  let b4 = gid.x;
  let a = gid.y;
  let tap = gid.z;
  if (b4 >= u.row4 || a >= u.A) { return; }
  let i = (tap * u.A + a) * u.row4 + b4;
  let at = a * u.strideA + tap;
${range(4).map((k) => `  let v${k} = select(0.0, w[at + min(b4 * 4u + ${k}u, u.B - 1u) * u.strideB], b4 * 4u + ${k}u < u.B);`).join('\n')}
  wmat[i] = vec4<f32>(v0, v1, v2, v3);`,
});

/** `biasAt(o)`: the bias of destination channel o, 0 past Cd (conv kernels with a `bias` binding). */
export const BIAS_AT = 'fn biasAt(o: u32) -> f32 { return select(0.0, bias[min(o, u.Cd - 1u)], o < u.Cd); }';

export interface ConvGemmParams {
  /** forward: src = x, dst = y. backwardData: src = dy, dst = dx, each tap mapped backwards. */
  mode: 'forward' | 'backwardData';
  layout: DataFormat;
  /** destination pixels per invocation (a multiple of 4). */
  tilePixels: number;
  /** destination channels per invocation (a multiple of 4). */
  tileChannels: number;
  workgroup: number;
  /** 1×1 kernel, stride 1, no padding: source pixel = destination pixel, no tap loop. */
  pointwise: boolean;
  /** NHWC: destination channels % 4 == 0. NCHW: destination H·W % 4 == 0 (4 pixels per store). */
  dstVec4: boolean;
  bias: boolean;
  /** source channels per step of the channel loop (1, 2 or 4); the remainder runs one at a time. */
  unroll: number;
  /**
   * Subgroup size (0: off). Each lane loads tileChannels / size of a weight row's floats and the
   * row is assembled with subgroupBroadcast, instead of every lane loading the whole row.
   */
  subgroupWeights: number;
  /** NHWC, unroll 2, source channels even: each pixel's two channels of a step as one vec2 load. */
  srcVec2: boolean;
  /**
   * Forward, pointwise, subgroupWeights: `wmat` is the filter w [Cd][Cs] itself, each lane reading
   * its columns' weights of a source channel straight from it (a clamped, strided load), instead of
   * a reordered copy: no reorder pass before the GEMM. A lane's loads are scalar either way.
   */
  weightsAsGiven?: boolean;
  /**
   * The source channel count and kernel size compiled in rather than read from uniforms, so that
   * the compiler unrolls the tap and channel loops: for GEMMs with a reduction of a few steps
   * (conv1's 3 channels × 4 taps), whose loop overhead is a large part of the work.
   */
  fixedSource?: { Cs: number; KH: number; KW: number };
  /**
   * NCHW pointwise with H·W a multiple of `tilePixels`: a tile's pixels are consecutive in one
   * image, so each channel's values load as tilePixels / 4 vec4s instead of one by one.
   */
  srcVec4Pixels: boolean;
  /**
   * Forward, Cd % 4 == 0, either layout: also the batch-norm statistics of dst (batchnorm.ts's
   * statisticsEpilogue, over the accumulators, which are vec4 along channels whatever the stores):
   * per pixel tile, Σ(y − shift) and Σ(y − shift)² per channel into `stats` [2·tilesP + 1, Cd],
   * `shift` [Cd] being the batch norm's running mean, copied into the last row (statisticsShiftRow).
   */
  statistics?: boolean;
  /**
   * With statistics and subgroupWeights (the workgroup a multiple of the subgroup size S): each
   * subgroup adds its lanes' sums (subgroupAdd) and its first lane writes them, so `stats` is
   * [2, ceil(tilesP / S), Cd]: S times fewer partials to store and for the batch norm to fold.
   * Assumes subgroups are runs of S consecutive local invocations (as lavapipe's are).
   */
  statisticsPerSubgroup?: boolean;
  /**
   * Backward-data: `addend` (laid out as dst) is added to every stored value — the gradient another
   * consumer of the convolution's input already produced, summed here instead of by an add pass.
   */
  addend?: boolean;
}

/**
 * dst[p, d] = Σ_{tap, s} src[source pixel of p at tap, s] · wmat[tap, s, d] over a tile of
 * `tilePixels` destination pixels × `tileChannels` destination channels. The accumulators are vec4
 * along d; a source value is loaded once per tile row and reused across the whole row, a weight
 * row once per tile column.
 * Uniforms: source (Hs, Ws, Cs) and destination (Hd, Wd, Cd) sizes, the kernel (KH, KW, strides,
 * top/left padding), `pixels` = N·Hd·Wd, `tilesP` = pixel tiles, `wRow4` = vec4s per wmat row.
 * Dispatch [ceil(tilesP / workgroup), channel tiles, 1].
 */
export const convGemmKernel = defineKernel<ConvGemmParams>({
  name: 'conv2d_gemm',
  bindings: (p) => [
    { name: 'src', type: p.srcVec2 ? 'vec2<f32>' : p.srcVec4Pixels ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'wmat', type: p.subgroupWeights ? 'f32' : 'vec4<f32>', access: 'read' },
    ...(p.bias ? [{ name: 'bias', type: 'f32' as const, access: 'read' as const }] : []),
    { name: 'dst', type: p.dstVec4 ? 'vec4<f32>' : 'f32', access: 'read_write' },
    ...(p.statistics ? statisticsBindings() : []),
    ...(p.addend ? [{ name: 'addend', type: p.dstVec4 ? 'vec4<f32>' as const : 'f32' as const, access: 'read' as const }] : []),
  ],
  enables: (p) => (p.subgroupWeights ? ['subgroups'] : []),
  uniforms: () => [
    { name: 'Hs', type: 'u32' }, { name: 'Ws', type: 'u32' }, { name: 'Cs', type: 'u32' },
    { name: 'Hd', type: 'u32' }, { name: 'Wd', type: 'u32' }, { name: 'Cd', type: 'u32' },
    { name: 'KH', type: 'u32' }, { name: 'KW', type: 'u32' },
    { name: 'strideH', type: 'u32' }, { name: 'strideW', type: 'u32' },
    { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
    { name: 'pixels', type: 'u32' }, { name: 'tilesP', type: 'u32' }, { name: 'wRow4', type: 'u32' },
  ],
  workgroupSize: (p) => [p.workgroup, 1, 1],
  prelude: (p) => (p.bias ? BIAS_AT : ''),
  body: (p) => gemmBody(p),
});

function gemmBody(p: ConvGemmParams): string {
  const TP = p.tilePixels;
  const TO4 = p.tileChannels / 4;
  if (TP % 4 !== 0 || p.tileChannels % 4 !== 0) throw new Error(`conv2d_gemm: tile ${TP}×${p.tileChannels} must be multiples of 4`);
  const pix = range(TP);
  const cols = range(TO4);
  const nchw = p.layout === 'NCHW';
  // Source channels and kernel size: compiled in (fixedSource) or read from the uniforms.
  const CS = p.fixedSource ? `${p.fixedSource.Cs}u` : 'u.Cs';
  const KH = p.fixedSource ? `${p.fixedSource.KH}u` : 'u.KH';
  const KW = p.fixedSource ? `${p.fixedSource.KW}u` : 'u.KW';
  const L: string[] = [];
  // Lanes spread over pixel tiles; the channel tile is the workgroup's (wid.y), so all lanes of a
  // workgroup read the same weight rows.
  const S = p.subgroupWeights;
  if (S) {
    if ((4 * TO4) % S !== 0) throw new Error(`conv2d_gemm: ${4 * TO4} weights per row do not split over subgroups of ${S}`);
    // Subgroup operations need every lane: lanes past the last tile compute a copy of it and store nothing.
    L.push(`let ptRaw = wid.x * ${p.workgroup}u + lid.x;`, 'let live = ptRaw < u.tilesP;', 'let pt = min(ptRaw, u.tilesP - 1u);');
  } else {
    L.push(`let pt = wid.x * ${p.workgroup}u + lid.x;`);
    L.push('if (pt >= u.tilesP) { return; }', 'let live = true;');
  }
  L.push(`let pFirst = pt * ${TP}u;`);
  L.push(`let og0 = wid.y * ${TO4}u;`);
  L.push('let HWd = u.Hd * u.Wd;');
  L.push('let HWs = u.Hs * u.Ws;');
  // Pixels past the end (in<i> false) read offset 0 instead and are not stored.
  for (const i of pix) {
    L.push(`let p${i} = pFirst + ${i}u;`, `let in${i} = live && p${i} < u.pixels;`);
    L.push(`let n${i} = p${i} / HWd;`, `let hw${i} = p${i} % HWd;`);
    if (!p.pointwise) L.push(`let hd${i} = hw${i} / u.Wd;`, `let wd${i} = hw${i} % u.Wd;`);
  }
  for (const i of pix) for (const j of cols) L.push(`var acc${i}_${j} = vec4<f32>(0.0);`);

  // One source channel: load each tile pixel's value (a divergent load costs far more than an
  // FMA on lavapipe, so each is reused across the tile's channels), one weight row, then the FMAs.
  // Source values are read one channel at a time: measured faster than vec4 loads along channels,
  // whose four-channel unrolled step made the 16×16 tile's loop body too large.
  const channelStride = nchw ? 'HWs' : '1u';
  const stride = (q: number, unit: string) => (q === 0 ? '' : ` + ${q}u * ${unit}`);
  // One step over `U` source channels. Values carried around the loop cost lavapipe a blend with the
  // loop's lane mask at every write (and, spilled, a load and a store), so each accumulator is
  // written once per step: its U products are summed first.
  const channelStep = (U: number, masked: boolean): string[] => {
    const qs = range(U);
    const pairLoads = p.srcVec2 && U === 2;
    const xs = (i: number, q: number) => `src[base${i}${stride(q, channelStride)}]`;
    const product = (i: number, j: number, q: number) => `vec4<f32>(x${i}_${q}) * w${j}_${q}`;
    return [
      ...(p.srcVec4Pixels
        ? qs.flatMap((q) => range(TP / 4).flatMap((g) => [
            `  let xq${g}_${q} = src[(base0${stride(q, channelStride)}) / 4u + ${g}u];`,
            ...range(4).map((k) => `  let x${4 * g + k}_${q} = xq${g}_${q}.${lanes[k]};`),
          ]))
        : pairLoads
        ? pix.flatMap((i) => [
            masked ? `  let xp${i} = select(vec2<f32>(0.0), src[base${i} / 2u], ok${i});` : `  let xp${i} = src[base${i} / 2u];`,
            `  let x${i}_0 = xp${i}.x;`, `  let x${i}_1 = xp${i}.y;`,
          ])
        : qs.flatMap((q) => pix.map((i) => (masked ? `  let x${i}_${q} = select(0.0, ${xs(i, q)}, ok${i});` : `  let x${i}_${q} = ${xs(i, q)};`)))),
      ...qs.flatMap((q) => (S
        ? [
            ...range((4 * TO4) / S).map((r) => (p.weightsAsGiven
              ? `  let wl${q}_${r} = wmat[wCol${r} + wIdx${q === 0 ? '' : ` + ${q}u`}];`
              : `  let wl${q}_${r} = wmat[(wIdx${stride(q, 'u.wRow4')}) * 4u + ${r * S}u + sgid];`)),
            ...cols.map((j) => `  let w${j}_${q} = vec4<f32>(${range(4).map((k) => fromSubgroupSlots((r) => `wl${q}_${r}`, 4 * j + k, S)).join(', ')});`),
          ]
        : cols.map((j) => `  let w${j}_${q} = wmat[wIdx${stride(q, 'u.wRow4')} + ${j}u];`))),
      p.weightsAsGiven ? `  wIdx += ${U}u;` : `  wIdx += ${U === 1 ? '' : `${U}u * `}u.wRow4;`,
      // Column by column: a column's weights serve every pixel before the next are loaded from the
      // spill area.
      ...cols.flatMap((j) => pix.map((i) => [i, j] as const)).map(([i, j]) => (U === 1
        ? `  acc${i}_${j} = fma(vec4<f32>(x${i}_0), w${j}_0, acc${i}_${j});`
        : `  acc${i}_${j} = acc${i}_${j} + ${pairSum(qs.map((q) => product(i, j, q)))};`)),
      ...pix.map((i) => `  base${i} += ${U === 1 ? '' : `${U}u * `}${channelStride};`),
    ];
  };
  const U = p.unroll;
  if (![1, 2, 4].includes(U)) throw new Error(`conv2d_gemm: unroll ${U} must be 1, 2 or 4`);
  // With vec2 loads there is no odd remainder channel (Cs is even), so no scalar access is needed.
  if (p.srcVec2 && (nchw || U !== 2)) throw new Error('conv2d_gemm: vec2 source loads need NHWC and unroll 2');
  if (p.srcVec4Pixels && !(nchw && p.pointwise)) throw new Error('conv2d_gemm: vec4 pixel loads need NCHW and a pointwise kernel');
  const channelLoop = (masked: boolean): string[] => (U === 1
    ? [`for (var c = 0u; c < ${CS}; c++) {`, ...channelStep(1, masked), '}']
    : [
        'var c = 0u;',
        `for (; c + ${U}u <= ${CS}; c += ${U}u) {`, ...channelStep(U, masked), '}',
        ...(p.srcVec2 ? [] : [`for (; c < ${CS}; c++) {`, ...channelStep(1, masked), '}']),
      ]);

  if (p.weightsAsGiven && !(p.pointwise && p.mode === 'forward' && S)) {
    throw new Error('conv2d_gemm: weights as given need a pointwise forward with subgroup weights');
  }
  if (p.pointwise) {
    if (p.weightsAsGiven) {
      // wIdx counts source channels; lane column o of w [Cd][Cs] starts at o·Cs (past Cd: the last column, never stored).
      for (const r of range((4 * TO4) / S)) L.push(`let wCol${r} = min(og0 * 4u + ${r * S}u + sgid, u.Cd - 1u) * ${CS};`);
      L.push('var wIdx = 0u;');
    } else {
      L.push('var wIdx = og0;');
    }
    for (const i of pix) L.push(`var base${i} = select(0u, ${nchw ? `n${i} * ${CS} * HWs + hw${i}` : `p${i} * ${CS}`}, in${i});`);
    L.push(...channelLoop(false));
  } else {
    L.push(`for (var kh = 0u; kh < ${KH}; kh++) {`);
    L.push(`for (var kw = 0u; kw < ${KW}; kw++) {`);
    L.push(`var wIdx = (kh * ${KW} + kw) * ${CS} * u.wRow4 + og0;`);
    for (const i of pix) {
      if (p.mode === 'forward') {
        L.push(`let sh${i} = i32(hd${i} * u.strideH + kh) - i32(u.padTop);`);
        L.push(`let sw${i} = i32(wd${i} * u.strideW + kw) - i32(u.padLeft);`);
        L.push(`let ok${i} = in${i} && sh${i} >= 0 && sh${i} < i32(u.Hs) && sw${i} >= 0 && sw${i} < i32(u.Ws);`);
      } else {
        // dst pixel (hd) receives from source pixel sh where sh·stride + kh − pad = hd.
        L.push(`let th${i} = i32(hd${i} + u.padTop) - i32(kh);`);
        L.push(`let tw${i} = i32(wd${i} + u.padLeft) - i32(kw);`);
        L.push(`let sh${i} = th${i} / i32(u.strideH);`);
        L.push(`let sw${i} = tw${i} / i32(u.strideW);`);
        L.push(`let ok${i} = in${i} && th${i} >= 0 && tw${i} >= 0 && sh${i} * i32(u.strideH) == th${i} && sw${i} * i32(u.strideW) == tw${i} && sh${i} < i32(u.Hs) && sw${i} < i32(u.Ws);`);
      }
      const pixelOffset = nchw
        ? `n${i} * ${CS} * HWs + u32(sh${i}) * u.Ws + u32(sw${i})`
        : `((n${i} * u.Hs + u32(sh${i})) * u.Ws + u32(sw${i})) * ${CS}`;
      L.push(`var base${i} = select(0u, ${pixelOffset}, ok${i});`);
    }
    L.push(...channelLoop(true));
    L.push('}', '}');
  }

  // Stores (with the bias folded in).
  const biasVec = (j: number) => (p.bias ? ` + vec4<f32>(${range(4).map((k) => `biasAt(o${j} + ${k}u)`).join(', ')})` : '');
  for (const j of cols) L.push(`let o${j} = (og0 + ${j}u) * 4u;`);
  for (const j of cols) L.push(`let b${j} = vec4<f32>(0.0)${biasVec(j)};`);
  if (p.statistics) {
    if (p.mode !== 'forward') throw new Error('conv2d_gemm: statistics are for the forward');
    const perSubgroup = p.statisticsPerSubgroup ?? false;
    if (perSubgroup && (!S || p.workgroup % S !== 0)) throw new Error(`conv2d_gemm: statistics per subgroup need subgroup weights and a workgroup that is a multiple of the subgroup size`);
    // Per subgroup: slot = the subgroup's first tile / S, written by its first lane (live iff any is).
    L.push(perSubgroup
      ? `let statParts = (u.tilesP + ${S - 1}u) / ${S}u; let slot = ptRaw / ${S}u; let writes = live && sgid == 0u;`
      : 'let statParts = u.tilesP; let slot = pt; let writes = live;');
    // Columns past Cd (a channel tile wider than Cd) read the last shift and store nothing.
    for (const j of cols) {
      L.push(`let k${j} = shift[min(og0 + ${j}u, u.Cd / 4u - 1u)];`, `var s1_${j} = vec4<f32>(0.0);`, `var s2_${j} = vec4<f32>(0.0);`);
      for (const i of pix) L.push(statisticsEpilogue(`s1_${j}`, `s2_${j}`, `acc${i}_${j} + b${j}`, `k${j}`, `in${i}`));
      if (perSubgroup) L.push(`s1_${j} = subgroupAdd(s1_${j});`, `s2_${j} = subgroupAdd(s2_${j});`);
      L.push(`if (writes && o${j} < u.Cd) {`, `  stats[slot * (u.Cd / 4u) + og0 + ${j}u] = s1_${j};`, `  stats[(statParts + slot) * (u.Cd / 4u) + og0 + ${j}u] = s2_${j};`,
        `  ${statisticsShiftRow(`k${j}`, `og0 + ${j}u`, 'statParts', '(u.Cd / 4u)', 'slot == 0u')}`, '}');
    }
  }
  if (p.addend && p.mode !== 'backwardData') throw new Error('conv2d_gemm: an addend is for backward-data');
  // dst[index] = value, plus the addend's element there when given.
  const store = (index: string, value: string) => `dst[${index}] = ${value}${p.addend ? ` + addend[${index}]` : ''};`;
  if (!nchw) {
    for (const i of pix) {
      L.push(`if (in${i}) {`);
      for (const j of cols) {
        if (p.dstVec4) L.push(`  if (o${j} < u.Cd) { ${store(`p${i} * (u.Cd / 4u) + og0 + ${j}u`, `acc${i}_${j} + b${j}`)} }`);
        else for (const k of range(4)) L.push(`  if (o${j} + ${k}u < u.Cd) { ${store(`p${i} * u.Cd + o${j} + ${k}u`, `acc${i}_${j}.${lanes[k]} + b${j}.${lanes[k]}`)} }`);
      }
      L.push('}');
    }
  } else if (p.dstVec4) {
    for (const g of range(TP / 4)) {
      L.push(`if (in${4 * g}) {`);
      L.push(`  let dbase${g} = n${4 * g} * u.Cd * HWd + hw${4 * g};`);
      for (const j of cols) {
        for (const k of range(4)) {
          const v = range(4).map((q) => `acc${4 * g + q}_${j}.${lanes[k]}`).join(', ');
          L.push(`  if (o${j} + ${k}u < u.Cd) { ${store(`(dbase${g} + (o${j} + ${k}u) * HWd) / 4u`, `vec4<f32>(${v}) + b${j}.${lanes[k]}`)} }`);
        }
      }
      L.push('}');
    }
  } else {
    for (const i of pix) {
      L.push(`if (in${i}) {`);
      for (const j of cols) for (const k of range(4)) {
        L.push(`  if (o${j} + ${k}u < u.Cd) { ${store(`(n${i} * u.Cd + o${j} + ${k}u) * HWd + hw${i}`, `acc${i}_${j}.${lanes[k]} + b${j}.${lanes[k]}`)} }`);
      }
      L.push('}');
    }
  }
  return L.map((l) => '  ' + l).join('\n');
}

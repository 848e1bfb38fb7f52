import { defineKernel, fromSubgroupSlots, gridWorkgroupSize, LANES as lanes, linearIndex, pairSum, range } from '../kernel.js';
import { statisticsBindings, statisticsEpilogue } from '../batchnorm/batchnorm.js';
import type { DataFormat } from '../kernel.js';

// The per-tap filter gradient's partials, the bias gradient's, and the pass that sums partials.

export interface ConvFilterParams {
  layout: DataFormat;
  /** input channels per invocation. */
  tileIn: number;
  /** output channels per invocation (a multiple of 4). */
  tileOut: number;
  workgroup: number;
  pointwise: boolean;
  /**
   * NCHW only: output H·W % 4 == 0 (and, unless pointwise, output W % 4 == 0): four pixels per
   * step, dy loaded as vec4 along pixels (and x too when pointwise).
   */
  fourPixels: boolean;
  /** NHWC only: C % 4 == 0 and tileIn % 4 == 0, x loaded as vec4 along channels. */
  xVec4: boolean;
  /** NHWC only: O % 4 == 0, dy loaded as vec4 along channels. */
  dyVec4: boolean;
  /**
   * Subgroup size (0: off). NHWC with xVec4, outTiles and workgroup multiples of it: the lanes of a
   * subgroup then share one x row (same input-channel tile, tap and chunk; lanes differ in output
   * tile), so each lane loads tileIn / size of its floats and subgroupBroadcast hands them round.
   */
  subgroupX: number;
}

/**
 * Partial filter gradients: partial[chunk][tap][c][o] = Σ over the chunk's pixels p (of N·OH·OW) of
 * x[source pixel of p at tap, c] · dy[p, o], for a tile of `tileIn` × `tileOut` channels at one tap.
 * `convPartialSumKernel` then sums the chunks and writes [O, C, KH, KW]. Splitting the reduction
 * over pixels keeps every invocation's loop short and gives enough invocations to fill the device,
 * without atomics.
 */
export const convFilterPartialKernel = defineKernel<ConvFilterParams>({
  name: 'conv2d_filter_partial',
  bindings: (p) => [
    { name: 'x', type: !p.subgroupX && (p.xVec4 || (p.fourPixels && p.pointwise)) ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'dy', type: p.dyVec4 || p.fourPixels ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'partial', type: 'vec4<f32>', access: 'read_write' },
  ],
  enables: (p) => (p.subgroupX ? ['subgroups'] : []),
  // WGSL's analysis cannot see that the lanes of a subgroup share their chunk (hence the pixel
  // loop's bounds) and leave together at the end: outTiles and the workgroup are multiples of the
  // subgroup size, so t / outTiles — and with it the chunk — is the same across a subgroup.
  directives: (p) => (p.subgroupX ? ['diagnostic(off, subgroup_uniformity)'] : []),
  uniforms: () => [
    { name: 'C', type: 'u32' }, { name: 'H', type: 'u32' }, { name: 'W', type: 'u32' }, { name: 'O', type: 'u32' },
    { name: 'KW', type: 'u32' }, { name: 'OH', type: 'u32' }, { name: 'OW', type: 'u32' },
    { name: 'strideH', type: 'u32' }, { name: 'strideW', type: 'u32' },
    { name: 'padTop', type: 'u32' }, { name: 'padLeft', type: 'u32' },
    { name: 'pixels', type: 'u32' }, { name: 'chunk', type: 'u32' }, { name: 'taps', type: 'u32' },
    { name: 'inTiles', type: 'u32' }, { name: 'outTiles', type: 'u32' }, { name: 'total', type: 'u32' },
  ],
  workgroupSize: (p) => [p.workgroup, 1, 1],
  body: (p) => filterBody(p),
});

function filterBody(p: ConvFilterParams): string {
  const TC = p.tileIn;
  const TO4 = p.tileOut / 4;
  const nchw = p.layout === 'NCHW';
  if (p.tileOut % 4 !== 0) throw new Error(`conv2d_filter_partial: tileOut ${p.tileOut} must be a multiple of 4`);
  if (nchw ? p.xVec4 || p.dyVec4 : p.fourPixels) throw new Error('conv2d_filter_partial: flags do not match the layout');
  if (p.xVec4 && TC % 4 !== 0) throw new Error('conv2d_filter_partial: vec4 x loads need tileIn % 4 == 0');
  const ins = range(TC);
  const cols = range(TO4);
  const L: string[] = [];
  L.push(`let t = ${linearIndex(p.workgroup)};`);
  L.push('if (t >= u.total) { return; }');
  L.push('let ot = t % u.outTiles;');
  L.push('let ct = (t / u.outTiles) % u.inTiles;');
  L.push('let tap = (t / (u.outTiles * u.inTiles)) % u.taps;');
  L.push('let chunk = t / (u.outTiles * u.inTiles * u.taps);');
  L.push('let kh = tap / u.KW;');
  L.push('let kw = tap % u.KW;');
  L.push(`let cFirst = ct * ${TC}u;`);
  L.push(`let oFirst = ot * ${p.tileOut}u;`);
  L.push('let HW = u.H * u.W;');
  L.push('let OHW = u.OH * u.OW;');
  L.push('let pStart = chunk * u.chunk;');
  L.push('let pEnd = min(pStart + u.chunk, u.pixels);');
  // Channels past the end are clamped: their rows are computed from valid memory and not stored.
  for (const i of ins) L.push(`let c${i} = min(cFirst + ${i}u, u.C - 1u);`);
  for (const k of range(p.tileOut)) L.push(`let o${k} = min(oFirst + ${k}u, u.O - 1u);`);
  for (const i of ins) for (const j of cols) L.push(`var acc${i}_${j} = vec4<f32>(0.0);`);
  // Position of the current pixel, advanced incrementally (no division in the loop).
  L.push('var n = pStart / OHW;');
  L.push('var hw = pStart % OHW;');
  L.push('var oh = hw / u.OW;');
  L.push('var ow = hw % u.OW;');
  const step = p.fourPixels ? 4 : 1;
  L.push(`for (var pix = pStart; pix < pEnd; pix += ${step}u) {`);
  const B: string[] = [];
  const sourcePixel = (q: string, ohq: string, owq: string) => [
    `let sh${q} = i32(${ohq} * u.strideH + kh) - i32(u.padTop);`,
    `let sw${q} = i32(${owq} * u.strideW + kw) - i32(u.padLeft);`,
    `let ok${q} = sh${q} >= 0 && sh${q} < i32(u.H) && sw${q} >= 0 && sw${q} < i32(u.W);`,
  ];
  if (!nchw) {
    // NHWC: one pixel per step; x row at the tap's source pixel, dy row at pix.
    if (p.pointwise) B.push('let ok = true;', 'let xPix = pix;');
    else B.push(...sourcePixel('', 'oh', 'ow'), 'let xPix = select(0u, (n * u.H + u32(sh)) * u.W + u32(sw), ok);');
    const S = p.subgroupX;
    if (S) {
      if (!p.xVec4 || TC % S !== 0) throw new Error(`conv2d_filter_partial: subgroup x rows need xVec4 and tileIn a multiple of ${S}`);
      for (const r of range(TC / S)) B.push(`let xl${r} = select(0.0, x[xPix * u.C + min(cFirst + ${r * S}u + sgid, u.C - 1u)], ok);`);
      for (const q of range(TC / 4)) {
        B.push(`let xv${q} = vec4<f32>(${range(4).map((k) => fromSubgroupSlots((r) => `xl${r}`, 4 * q + k, S)).join(', ')});`);
      }
    } else if (p.xVec4) {
      for (const q of range(TC / 4)) {
        B.push(`let xv${q} = select(vec4<f32>(0.0), x[xPix * (u.C / 4u) + c${4 * q} / 4u], ok);`);
      }
    } else {
      for (const i of ins) B.push(`let xs${i} = select(0.0, x[xPix * u.C + c${i}], ok);`);
    }
    const xOf = (i: number) => (p.xVec4 ? `xv${i >> 2}.${lanes[i & 3]}` : `xs${i}`);
    for (const j of cols) {
      if (p.dyVec4) B.push(`let g${j} = dy[pix * (u.O / 4u) + o${4 * j} / 4u];`);
      else B.push(`let g${j} = vec4<f32>(${range(4).map((k) => `dy[pix * u.O + o${4 * j + k}]`).join(', ')});`);
    }
    for (const i of ins) for (const j of cols) B.push(`acc${i}_${j} = fma(vec4<f32>(${xOf(i)}), g${j}, acc${i}_${j});`);
    B.push('ow += 1u;', 'if (ow == u.OW) { ow = 0u; oh += 1u; if (oh == u.OH) { oh = 0u; n += 1u; } }');
  } else if (p.fourPixels) {
    // NCHW, four pixels of one image per step (they share a row unless pointwise).
    for (const k of range(p.tileOut)) B.push(`let g${k} = dy[((n * u.O + o${k}) * OHW + hw) / 4u];`);
    if (p.pointwise) {
      for (const i of ins) B.push(`let xv${i} = x[((n * u.C + c${i}) * HW + hw) / 4u];`);
    } else {
      for (const q of range(4)) {
        B.push(...sourcePixel(`${q}`, 'oh', `(ow + ${q}u)`));
        B.push(`let xPix${q} = select(0u, u32(sh${q}) * u.W + u32(sw${q}), ok${q});`);
      }
      for (const i of ins) {
        B.push(`let xRow${i} = (n * u.C + c${i}) * HW;`);
        B.push(`let xv${i} = vec4<f32>(${range(4).map((q) => `select(0.0, x[xRow${i} + xPix${q}], ok${q})`).join(', ')});`);
      }
    }
    // The four pixels' products are summed before the one write of each accumulator per step.
    for (const q of range(4)) {
      for (const j of cols) B.push(`let g${j}_${q} = vec4<f32>(${range(4).map((k) => `g${4 * j + k}.${lanes[q]}`).join(', ')});`);
    }
    const product = (i: number, j: number, q: number) => `vec4<f32>(xv${i}.${lanes[q]}) * g${j}_${q}`;
    for (const i of ins) for (const j of cols) {
      B.push(`acc${i}_${j} = acc${i}_${j} + ${pairSum(range(4).map((q) => product(i, j, q)))};`);
    }
    B.push('hw += 4u;');
    if (!p.pointwise) B.push('ow += 4u;', 'if (ow == u.OW) { ow = 0u; oh += 1u; }');
    B.push('if (hw == OHW) { hw = 0u; oh = 0u; ow = 0u; n += 1u; }');
  } else {
    // NCHW, one pixel per step, scalar loads.
    for (const j of cols) B.push(`let g${j} = vec4<f32>(${range(4).map((k) => `dy[(n * u.O + o${4 * j + k}) * OHW + hw]`).join(', ')});`);
    if (p.pointwise) B.push('let ok = true;', 'let xPix = hw;');
    else B.push(...sourcePixel('', 'oh', 'ow'), 'let xPix = select(0u, u32(sh) * u.W + u32(sw), ok);');
    for (const i of ins) B.push(`let xs${i} = select(0.0, x[(n * u.C + c${i}) * HW + xPix], ok);`);
    for (const i of ins) for (const j of cols) B.push(`acc${i}_${j} = fma(vec4<f32>(xs${i}), g${j}, acc${i}_${j});`);
    B.push('hw += 1u;', 'ow += 1u;', 'if (ow == u.OW) { ow = 0u; oh += 1u; }', 'if (hw == OHW) { hw = 0u; oh = 0u; n += 1u; }');
  }
  L.push(...B.map((l) => '  ' + l), '}');
  L.push(`let row0 = (chunk * u.taps + tap) * u.C;`);
  L.push(`let rowVec4s = u.outTiles * ${TO4}u;`);
  for (const i of ins) {
    L.push(`if (cFirst + ${i}u < u.C) {`);
    for (const j of cols) L.push(`  partial[(row0 + cFirst + ${i}u) * rowVec4s + ot * ${TO4}u + ${j}u] = acc${i}_${j};`);
    L.push('}');
  }
  return L.map((l) => '  ' + l).join('\n');
}

/**
 * Bias gradient partials: partial[chunk][o] = Σ over the chunk's pixels of dy[p, o], four channels
 * per invocation. NHWC with O % 4 == 0 loads vec4 along channels; NCHW with OH·OW % 4 == 0 loads vec4
 * along pixels (`vec4`).
 */
export const convBiasPartialKernel = defineKernel<{ layout: DataFormat; vec4: boolean; workgroup: number }>({
  name: 'conv2d_bias_partial',
  bindings: (p) => [
    { name: 'dy', type: p.vec4 ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'partial', type: 'vec4<f32>', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'O', type: 'u32' }, { name: 'OHW', type: 'u32' }, { name: 'pixels', type: 'u32' },
    { name: 'chunk', type: 'u32' }, { name: 'groups', type: 'u32' }, { name: 'total', type: 'u32' },
  ],
  workgroupSize: (p) => [p.workgroup, 1, 1],
  body: (p) => {
    const ks = range(4);
    const head = `
  let t = ${linearIndex(p.workgroup)};
  if (t >= u.total) { return; }
  let og = t % u.groups;
  let chunk = t / u.groups;
  let pStart = chunk * u.chunk;
  let pEnd = min(pStart + u.chunk, u.pixels);
${ks.map((k) => `  let o${k} = min(og * 4u + ${k}u, u.O - 1u);`).join('\n')}`;
    if (p.layout === 'NHWC') {
      const load = p.vec4 ? 'dy[pix * (u.O / 4u) + og]' : `vec4<f32>(${ks.map((k) => `dy[pix * u.O + o${k}]`).join(', ')})`;
      return `${head}
  var acc = vec4<f32>(0.0);
  for (var pix = pStart; pix < pEnd; pix++) { acc += ${load}; }
  partial[chunk * u.groups + og] = acc;`;
    }
    const step = p.vec4 ? 4 : 1;
    const zero = p.vec4 ? 'vec4<f32>(0.0)' : '0.0';
    const index = (k: number) => `${p.vec4 ? '(' : ''}(n * u.O + o${k}) * u.OHW + hw${p.vec4 ? ') / 4u' : ''}`;
    const total = (k: number) => (p.vec4 ? `dot(acc${k}, vec4<f32>(1.0))` : `acc${k}`);
    return `${head}
${ks.map((k) => `  var acc${k} = ${zero};`).join('\n')}
  var n = pStart / u.OHW;
  var hw = pStart % u.OHW;
  for (var pix = pStart; pix < pEnd; pix += ${step}u) {
${ks.map((k) => `    acc${k} += dy[${index(k)}];`).join('\n')}
    hw += ${step}u;
    if (hw == u.OHW) { hw = 0u; n += 1u; }
  }
  partial[chunk * u.groups + og] = vec4<f32>(${ks.map(total).join(', ')});`;
  },
});

/**
 * Sums the chunk partials [chunks][rows][groups·4] and writes out[(o·C + c)·taps + tap] for row =
 * tap·C + c: the filter gradient in [O, C, KH, KW] order (bias gradient: rows = C = taps = 1).
 * `sameOrder` (taps = 1): the partials are already in the output's order, rows = C of them each
 * `O` wide: out[c·O + o] (a 1×1 filter gradient summed as [chunks][O][C]: C = its O, O = its C).
 */
export const convPartialSumKernel = defineKernel<{ workgroup: number; sameOrder?: boolean }>({
  name: 'conv2d_partial_sum',
  bindings: () => [
    { name: 'partial', type: 'vec4<f32>', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => [
    { name: 'rows', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'taps', type: 'u32' }, { name: 'O', type: 'u32' },
    { name: 'rowVec4s', type: 'u32' }, { name: 'groups', type: 'u32' }, { name: 'chunks', type: 'u32' },
  ],
  // A grid (kernel.ts; x: vec4 group of output channels, y: input channel, z: tap) instead of
  // dividing a linear index. Dispatch gridWorkgroups(groups, C, taps, workgroup).
  workgroupSize: (p) => gridWorkgroupSize(p.workgroup),
  body: (p) => `
  let og = gid.x;
  let c = gid.y;
  let tap = gid.z;
  if (og >= u.groups || c >= u.C) { return; }
  let row = tap * u.C + c;
  var acc = vec4<f32>(0.0);
  for (var s = 0u; s < u.chunks; s++) { acc += partial[(s * u.rows + row) * u.rowVec4s + og]; }
${range(4).map((k) => `  if (og * 4u + ${k}u < u.O) { out[${p.sameOrder ? `c * u.O + og * 4u + ${k}u` : `((og * 4u + ${k}u) * u.C + c) * u.taps + tap`}] = acc.${lanes[k]}; }`).join('\n')}`,
});

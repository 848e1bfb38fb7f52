import { defineKernel, fromSubgroupSlots, LANES, range, type BufferBinding, type UniformField } from '../kernel.js';

/**
 * GEMM kernels: C[b] (+)= op(A[b]) · op(B[b]) for b < batch, where op(A) is [M, K] and op(B) is
 * [K, N]. With `transA` A is stored [K, M] (so A·… reads Aᵀ without materialising it); with
 * `transB` B is stored [N, K]. All matrices are row-major and dense; element (r, c) of a stored
 * [R, C] matrix is at `offset + batch·batchStride + r·C + c` (a batch stride of 0 broadcasts).
 * With `sumsItems`, each C[g] is instead the sum over `sumItems` consecutive batch items
 * g·sumItems … of op(A[b]) · op(B[b]) (a reduction longer than K that is not one strided matrix:
 * an NCHW filter gradient sums dy_n · x_nᵀ over images n).
 */
export interface GemmLayout {
  transA: boolean;
  transB: boolean;
  /** C += A·B instead of C = A·B. */
  accumulate: boolean;
  /** sum `u.sumItems` batch items into each C (see above). */
  sumsItems?: boolean;
}

const GEMM_UNIFORMS: UniformField[] = [
  { name: 'M', type: 'u32' }, { name: 'N', type: 'u32' }, { name: 'K', type: 'u32' },
  { name: 'aOffset', type: 'u32' }, { name: 'bOffset', type: 'u32' }, { name: 'cOffset', type: 'u32' },
  { name: 'aBatchStride', type: 'u32' }, { name: 'bBatchStride', type: 'u32' }, { name: 'cBatchStride', type: 'u32' },
  { name: 'sumItems', type: 'u32' },
];

/** WGSL: the loop over the batch items summed into one C (`sumsItems`), or a single item `wid.z`; closed by `itemsEnd`. */
const itemsBegin = (p: GemmLayout) => (p.sumsItems
  ? 'for (var it = 0u; it < u.sumItems; it++) {\n  let item = wid.z * u.sumItems + it;'
  : '{\n  let item = wid.z;');
const ITEMS_END = '}';

/** WGSL: index of op(A)(m, k) and op(B)(k, n) in the flat (scalar) arrays, batch bases included. */
const INDEX_HELPERS = (p: GemmLayout) => `
fn aIndex(base: u32, m: u32, k: u32) -> u32 { return ${p.transA ? 'base + k * u.M + m' : 'base + m * u.K + k'}; }
fn bIndex(base: u32, k: u32, n: u32) -> u32 { return ${p.transB ? 'base + n * u.K + k' : 'base + k * u.N + n'}; }`;

/** Workgroup of the one-output-per-invocation oracle. */
export const SIMPLE_GEMM_WG: [number, number, number] = [8, 8, 1];

/**
 * The oracle: one output per invocation, scalar loads, a plain k loop. Slow but obviously right;
 * tests compare the fast kernel against it. Dispatch [ceil(N/8), ceil(M/8), batch].
 */
export const simpleGemmKernel = defineKernel<GemmLayout>({
  name: 'gemm_simple',
  bindings: () => [
    { name: 'A', type: 'f32', access: 'read' },
    { name: 'B', type: 'f32', access: 'read' },
    { name: 'C', type: 'f32', access: 'read_write' },
  ],
  uniforms: () => GEMM_UNIFORMS,
  workgroupSize: () => SIMPLE_GEMM_WG,
  prelude: INDEX_HELPERS,
  body: (p) => `
  let n = gid.x;
  let m = gid.y;
  if (m >= u.M || n >= u.N) { return; }
  var acc = 0.0;
  ${itemsBegin(p)}
  let aBase = u.aOffset + item * u.aBatchStride;
  let bBase = u.bOffset + item * u.bBatchStride;
  for (var k = 0u; k < u.K; k++) {
    acc += A[aIndex(aBase, m, k)] * B[bIndex(bBase, k, n)];
  }
  ${ITEMS_END}
  let ci = u.cOffset + wid.z * u.cBatchStride + m * u.N + n;
  C[ci] = ${p.accumulate ? 'C[ci] + acc' : 'acc'};`,
});

/** Register tile of the fast kernel: rows × columns of C per invocation, and its workgroup. */
export interface GemmTile {
  /** rows of C per invocation (with A transposed, a multiple of 4 lets A be read as vec4s). */
  rows: number;
  /** columns of C per invocation, a multiple of 4 (held as vec4s). */
  cols: number;
  /** invocations per (1-D) workgroup. */
  wg: number;
  /**
   * The axis a workgroup's invocations spread along (the other tile coordinate is shared by the
   * whole workgroup). Along the axis with more tiles, fewer lanes idle past the edge.
   */
  lanes: 'm' | 'n';
  /**
   * Subgroup size (0 or absent: off). With lanes 'm' a workgroup's lanes share their columns, so
   * each k step's B vec4s are the same for all of them: each lane loads 1 / size of them and
   * subgroupBroadcast hands them round (the host sets it where the adapter has one fixed size that
   * divides the workgroup). Lanes past M then run on clamped rows instead of returning early, so
   * that every lane of a subgroup reaches the broadcasts.
   */
  subgroupB?: number;
}

export interface FastGemmParams extends GemmLayout {
  tile: GemmTile;
  /**
   * Whether A / B / C can be bound as vec4 arrays: the operand's contiguous dimension, offset and
   * batch stride are all multiples of 4 (decided by the host). Otherwise vec4s are assembled from
   * scalar loads; the arithmetic is the same.
   */
  vecA: boolean;
  vecB: boolean;
  vecC: boolean;
}

/**
 * The default register tile (its lane axis is chosen per call, see `gemm`), measured with
 * matmul.bench.ts on lavapipe (llvmpipe, 2 cores shared with other jobs, so compared by GFLOP per
 * CPU-second, which contention moves far less than elapsed time; medians, ±30% noise):
 *   1024³:            8×8 wg16 5.4, 8×8 wg64 5.1, 16×8 5.7, 8×4 4.5, 4×8 3.9 (wall max 8×8: 11 GFLOP/s)
 *   1×1-conv shapes:  8×8 on the busier axis 3.9–4.6, every other tile at or below it
 * 16×8 is no better beyond noise, compiles slower and wastes more at edges; workgroups of 8–128
 * measured alike, 16 idles fewest lanes when the lane axis has few tiles. Lavapipe runs each lane
 * of a non-uniform load as its own scalar load, so what pays is arithmetic per load: an r×c tile
 * does 4·r·c FMAs per r + c vec4 loads.
 */
export const FAST_GEMM_TILE: Omit<GemmTile, 'lanes'> = { rows: 8, cols: 8, wg: 16 };

/**
 * The tile for software adapters with one fixed subgroup size (lavapipe: 8), where lanes go along
 * M: 8 rows × 32 columns with each k step's B vec4s loaded once per subgroup and broadcast
 * (`subgroupB`). A lane then loads per k 8 floats of A and 32 / 8 of B for 64 multiply-adds, where
 * the 8×8 tile loads 8 + 8 for 16 (a per-lane load costs lavapipe about as much as four vec4
 * multiply-adds: bench/README.md). Measured on lavapipe (2026-11-26, GPU timestamps, candidates
 * taking turns, medians of 7): 1024³ 14.2 → 42.3 GFLOP/s (transposed B 13.5 → 41.6, transposed A
 * 13.3 → 38.1); at 1×1- and 3×3-convolution sizes 8192×64×128 10.1 → 36.3 and 2048×256×576 13.2
 * → 39.0. 8×16 (31–37), 16×16 (27–33) and 4×32 (26–44, worst with transposed B) did no better
 * overall. Hardware GPUs keep FAST_GEMM_TILE: 256 accumulators per invocation would spill there.
 */
export const SUBGROUP_GEMM_TILE: Omit<GemmTile, 'lanes' | 'subgroupB'> = { rows: 8, cols: 32, wg: 16 };

/**
 * SUBGROUP_GEMM_TILE and its narrower variants, in order of preference: the host takes the first
 * that pads M (to rows × wg per workgroup) and N (to cols) least. The Winograd GEMMs of SqueezeNet
 * have N = 16 or 48 (the squeeze channels of fire2/3 and fire6/7, in backward-data and the filter
 * gradient) and M = 64 (fire2's filter gradient: 8 row tiles for 16 lanes), where the 8×32 tile in
 * 16-lane workgroups computed up to 4× the useful work. Measured on lavapipe (2026-11-26, GPU
 * timestamps, candidates taking turns, medians of 7, batch 36): 64×16×512 (Aᵀ) 4.0 → 1.1 ms with
 * 8×16 in 8 lanes; 192×48×128 (Aᵀ) 4.6 → 2.7 ms (8×16, 8 lanes); 128×48×192 3.5 → 2.6 ms and
 * 512×16×64 4.3 → 3.3 ms (8×16, 16 lanes); 128×64×256, which nothing pads, stays fastest with 8×32.
 */
export const SUBGROUP_GEMM_TILES: ReadonlyArray<Omit<GemmTile, 'lanes' | 'subgroupB'>> = [
  SUBGROUP_GEMM_TILE,
  { ...SUBGROUP_GEMM_TILE, wg: 8 },
  { ...SUBGROUP_GEMM_TILE, cols: 16 },
  { ...SUBGROUP_GEMM_TILE, cols: 16, wg: 8 },
];

/**
 * The fast kernel: each invocation accumulates a `rows × cols` tile of C in registers (cols/4 vec4
 * per row), walking k four at a time with vec4 loads where the layout allows. No workgroup memory
 * and no barriers: on lavapipe, where an invocation is a SIMD lane of a CPU thread, shared-memory
 * tiling costs more in barriers than it saves in loads (measured: ≈4.5 vs 7–13.5 GFLOP/s at 1024³).
 *
 * Edges: loads clamp their row/column to the last valid one (those lanes' results are never
 * stored), stores are guarded, and a scalar loop handles the K % 4 tail.
 * Dispatch, with tilesM = ceil(M/rows), tilesN = ceil(N/cols): lanes 'n' → [ceil(tilesN/wg),
 * tilesM, batch]; lanes 'm' → [tilesN, ceil(tilesM/wg), batch].
 */
export const fastGemmKernel = defineKernel<FastGemmParams>({
  name: 'gemm_tiled',
  bindings: (p): BufferBinding[] => [
    { name: 'A', type: p.vecA ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'B', type: p.vecB ? 'vec4<f32>' : 'f32', access: 'read' },
    { name: 'C', type: p.vecC ? 'vec4<f32>' : 'f32', access: 'read_write' },
  ],
  uniforms: () => GEMM_UNIFORMS,
  workgroupSize: (p) => [p.tile.wg, 1, 1],
  enables: (p) => (p.tile.subgroupB ? ['subgroups'] : []),
  // WGSL cannot see that a workgroup's lanes share n0 and the k loop (their bounds are uniforms
  // and workgroup ids), so the broadcasts run in uniform control flow.
  directives: (p) => (p.tile.subgroupB ? ['diagnostic(off, subgroup_uniformity)'] : []),
  prelude: (p) => `${INDEX_HELPERS(p)}
fn loadA(i: u32) -> f32 { return ${p.vecA ? 'A[i >> 2u][i & 3u]' : 'A[i]'}; }
fn loadB(i: u32) -> f32 { return ${p.vecB ? 'B[i >> 2u][i & 3u]' : 'B[i]'}; }
fn loadA4(i: u32) -> vec4<f32> { return ${p.vecA ? 'A[i >> 2u]' : 'vec4<f32>(A[i], A[i + 1u], A[i + 2u], A[i + 3u])'}; }
fn loadB4(i: u32) -> vec4<f32> { return ${p.vecB ? 'B[i >> 2u]' : 'vec4<f32>(B[i], B[i + 1u], B[i + 2u], B[i + 3u])'}; }`,
  body: (p) => fastGemmBody(p),
});

function fastGemmBody(p: FastGemmParams): string {
  const { rows, cols } = p.tile;
  if (cols % 4 !== 0) throw new Error(`gemm tile: cols (${cols}) must be a multiple of 4`);
  const colVecs = cols / 4;
  const R = range(rows);
  const J = range(colVecs);
  const KK = range(4);
  const lines: string[] = [];
  const emit = (s: string) => lines.push(`  ${s}`);

  if (p.tile.lanes === 'n') {
    emit(`let m0 = wid.y * ${rows}u;`);
    emit(`let n0 = (wid.x * ${p.tile.wg}u + lid.x) * ${cols}u;`);
  } else {
    emit(`let m0 = (wid.y * ${p.tile.wg}u + lid.x) * ${rows}u;`);
    emit(`let n0 = wid.x * ${cols}u;`);
  }
  const S = p.tile.subgroupB ?? 0;
  if (S && (p.tile.lanes !== 'm' || p.tile.wg % S !== 0)) throw new Error(`gemm tile: subgroupB needs lanes 'm' and a workgroup that is a multiple of ${S}`);
  // With shared B loads every lane of a subgroup must reach the broadcasts: rows past M are
  // clamped (and not stored) instead of returning.
  emit(S ? 'if (n0 >= u.N) { return; }' : 'if (m0 >= u.M || n0 >= u.N) { return; }');
  // Clamped coordinates: lanes past the edge load valid (ignored) data instead of branching.
  for (const i of R) emit(`let mc${i} = min(m0 + ${i}u, u.M - 1u);`);
  for (const c of range(cols)) emit(`let nc${c} = min(n0 + ${c}u, u.N - 1u);`);
  for (const i of R) for (const j of J) emit(`var acc${i}_${j} = vec4<f32>(0.0);`);

  emit(itemsBegin(p));
  emit('let aBase = u.aOffset + item * u.aBatchStride;');
  emit('let bBase = u.bOffset + item * u.bBatchStride;');
  // ── main loop, k += 4: a${i} = A(m_i, k..k+3); b${kk}_${j} = B(k+kk, n0+4j..n0+4j+3) ──
  emit('let kEnd4 = u.K & ~3u;');
  emit('var k = 0u;');
  emit('for (; k < kEnd4; k += 4u) {');
  if (!p.transA) {
    // rows of A are contiguous along k
    for (const i of R) emit(`  let a${i} = loadA4(aIndex(aBase, mc${i}, k));`);
  } else if (p.vecA && rows % 4 === 0) {
    // A stored [K, M]: one vec4 holds 4 consecutive m of one k (clamped vec4s stay in the row)
    for (const kk of KK) for (const q of range(rows / 4)) {
      emit(`  let at${kk}_${q} = A[aIndex(aBase, min(m0 + ${4 * q}u, u.M - 4u), k + ${kk}u) >> 2u];`);
    }
    for (const i of R) emit(`  let a${i} = vec4<f32>(${KK.map((kk) => `at${kk}_${i >> 2}.${LANES[i % 4]}`).join(', ')});`);
  } else {
    for (const i of R) emit(`  let a${i} = vec4<f32>(${KK.map((kk) => `loadA(aIndex(aBase, mc${i}, k + ${kk}u))`).join(', ')});`);
  }
  if (S) {
    // The step's B vec4s, numbered q: lane q % S loads vec4 q into its slot q / S, and every lane
    // takes vec4 q from that lane. Non-transposed B: q = kk·colVecs + j is row k + kk, columns
    // n0 + 4j…; transposed: q = c is column n0 + c, rows k…k + 3 (a 4×4 transpose follows).
    const loads = p.transB ? cols : 4 * colVecs;
    const slots = Math.ceil(loads / S);
    for (const slot of range(slots)) {
      emit(`  let q${slot} = min(${slot * S}u + sgid, ${loads - 1}u);`);
      if (!p.transB) {
        const kk = `q${slot} / ${colVecs}u`;
        const col = `min(n0 + 4u * (q${slot} % ${colVecs}u), u.N - 4u)`;
        emit(p.vecB
          ? `  let bl${slot} = B[bIndex(bBase, k + ${kk}, ${col}) >> 2u];`
          : `  let bl${slot} = vec4<f32>(${KK.map((q) => `B[bIndex(bBase, k + ${kk}, min(n0 + 4u * (q${slot} % ${colVecs}u) + ${q}u, u.N - 1u))]`).join(', ')});`);
      } else {
        emit(`  let bl${slot} = loadB4(bIndex(bBase, k, min(n0 + q${slot}, u.N - 1u)));`);
      }
    }
    const shared = (q: number) => fromSubgroupSlots((slot) => `bl${slot}`, q, S);
    if (!p.transB) {
      for (const kk of KK) for (const j of J) emit(`  let b${kk}_${j} = ${shared(kk * colVecs + j)};`);
    } else {
      for (const c of range(cols)) emit(`  let bt${c} = ${shared(c)};`);
      for (const kk of KK) for (const j of J) {
        emit(`  let b${kk}_${j} = vec4<f32>(${KK.map((q) => `bt${4 * j + q}.${LANES[kk]}`).join(', ')});`);
      }
    }
  } else if (!p.transB) {
    // rows of B are contiguous along n: one vec4 per 4 columns (clamped columns stay in the row)
    for (const kk of KK) for (const j of J) {
      emit(p.vecB
        ? `  let b${kk}_${j} = B[bIndex(bBase, k + ${kk}u, min(n0 + ${4 * j}u, u.N - 4u)) >> 2u];`
        : `  let b${kk}_${j} = vec4<f32>(${KK.map((q) => `B[bIndex(bBase, k + ${kk}u, nc${4 * j + q})]`).join(', ')});`);
    }
  } else {
    // B stored [N, K]: each column n is contiguous along k; transpose 4×4 blocks in registers
    for (const c of range(cols)) emit(`  let bt${c} = loadB4(bIndex(bBase, k, nc${c}));`);
    for (const kk of KK) for (const j of J) {
      emit(`  let b${kk}_${j} = vec4<f32>(${KK.map((q) => `bt${4 * j + q}.${LANES[kk]}`).join(', ')});`);
    }
  }
  // One write per accumulator and step (the four k chained): lavapipe blends every write of a
  // loop-carried value with the loop's lane mask. Four writes a step took 0–15 % longer (GEMMs at
  // the Winograd sizes, GPU timestamps, candidates taking turns, medians of 11, 2026-11-26).
  // Column by column, so that a column's four B vec4s serve every row before the next are needed:
  // row by row took 6–23 % longer (the same four shapes, two runs).
  for (const j of J) for (const i of R) {
    emit(`  acc${i}_${j} = ${KK.reduce((acc, kk) => `fma(vec4<f32>(a${i}.${LANES[kk]}), b${kk}_${j}, ${acc})`, `acc${i}_${j}`)};`);
  }
  emit('}');

  // ── K % 4 tail, one k at a time ──
  emit('for (; k < u.K; k++) {');
  for (const i of R) emit(`  let a${i} = loadA(aIndex(aBase, mc${i}, k));`);
  for (const j of J) emit(`  let b${j} = vec4<f32>(${KK.map((q) => `loadB(bIndex(bBase, k, nc${4 * j + q}))`).join(', ')});`);
  for (const i of R) for (const j of J) emit(`  acc${i}_${j} = fma(vec4<f32>(a${i}), b${j}, acc${i}_${j});`);
  emit('}');
  emit(ITEMS_END);

  // ── guarded stores ──
  emit('let cBase = u.cOffset + wid.z * u.cBatchStride;');
  for (const i of R) {
    emit(`if (m0 + ${i}u < u.M) {`);
    emit(`  let row = cBase + (m0 + ${i}u) * u.N + n0;`);
    for (const j of J) {
      if (p.vecC) {
        // N % 4 == 0, so a vec4 of columns is either wholly inside or wholly outside
        const v = p.accumulate ? `C[(row + ${4 * j}u) >> 2u] + acc${i}_${j}` : `acc${i}_${j}`;
        emit(`  if (n0 + ${4 * j}u < u.N) { C[(row + ${4 * j}u) >> 2u] = ${v}; }`);
      } else {
        for (const q of KK) {
          const col = 4 * j + q;
          const v = p.accumulate ? `C[row + ${col}u] + acc${i}_${j}.${LANES[q]}` : `acc${i}_${j}.${LANES[q]}`;
          emit(`  if (n0 + ${col}u < u.N) { C[row + ${col}u] = ${v}; }`);
        }
      }
    }
    emit('}');
  }
  return lines.join('\n');
}

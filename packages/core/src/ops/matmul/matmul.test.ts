import assert from 'node:assert/strict';
import type { GemmTile } from '@squeeze/kernels-wgsl';
import { matmul, gemm, defaultGemmTile, type GemmOptions } from './matmul.js';
import type { Runtime } from '../../runtime/runtime.js';
import { SUBGROUP_GEMM_TILE, FAST_GEMM_TILE } from '@squeeze/kernels-wgsl';
import { gemmRef, matmulRef } from './reference.js';
import { tensor } from '../creation/creation.js';
import { getRuntime } from '../../runtime/global.js';
import { tidy } from '../../memory.js';
import { broadcastShapes, broadcastStrides, stridesOf } from '../shape.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };
/** [M, N, K]: tiny, odd, larger than a tile in every dimension, aligned, and mixed alignments. */
const SHAPES: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [17, 33, 65], [64, 64, 64], [12, 8, 16], [9, 4, 6], [4, 10, 8]];
/** Besides the default tile: one with rows not a multiple of 4, and a narrow one. */
const TILES: GemmTile[] = [{ rows: 3, cols: 4, wg: 4, lanes: 'm' }, { rows: 4, cols: 8, wg: 16, lanes: 'n' }];
const KERNELS: Array<[string, GemmOptions]> = [
  ['fast', {}], ['simple', { kernel: 'simple' }], ...TILES.map((tile): [string, GemmOptions] => [`fast ${tile.rows}×${tile.cols}`, { tile }]),
];

async function runGemm(opts: GemmOptions, args: {
  a: Float64Array; b: Float64Array; c0?: Float64Array; cSize: number; M: number; N: number; K: number;
  transA?: boolean; transB?: boolean; batch?: number; aBatchStride?: number; bBatchStride?: number;
  aOffset?: number; bOffset?: number; cOffset?: number; accumulate?: boolean; sumItems?: number;
}): Promise<Float32Array> {
  const ta = tensor(Float32Array.from(args.a));
  const tb = tensor(Float32Array.from(args.b));
  const tc = tensor(args.c0 ? Float32Array.from(args.c0) : new Float32Array(args.cSize).fill(NaN));
  gemm(getRuntime(), { ...args, a: ta, b: tb, c: tc }, opts);
  const out = (await tc.data()) as Float32Array;
  ta.dispose(); tb.dispose(); tc.dispose();
  return out;
}

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;

/** Every shape in every transpose, or (`oneTransposeEach`) each shape in one, the four taken in turn. */
async function checkShapes(name: string, opts: GemmOptions, oneTransposeEach = false): Promise<void> {
  for (const [s, [M, N, K]] of SHAPES.entries()) {
    const a = randomValues(M * K, 100 + s);
    const b = randomValues(K * N, 200 + s);
    for (const [transA, transB] of oneTransposeEach ? [TRANSPOSES[s % 4]!] : TRANSPOSES) {
      const got = await runGemm(opts, { a, b, cSize: M * N, M, N, K, transA, transB });
      expectClose(got, gemmRef({ a, b, M, N, K, transA, transB }), TOL, `${name} ${M}×${N}×${K} transA=${transA} transB=${transB}`);
    }
  }
}

/** Batch shapes: vec4 operands throughout, scalar throughout, and a row count past one tile. */
const BATCH_SHAPES = [[5, 12, 8], [7, 9, 6], [16, 16, 4]] as const;

async function checkBatches(name: string, opts: GemmOptions, shapes: ReadonlyArray<readonly [number, number, number]> = BATCH_SHAPES): Promise<void> {
  for (const [M, N, K] of shapes) {
    const batch = 3;
    const aOffset = 4;
    const a = randomValues(aOffset + batch * M * K, 7);
    const b = randomValues(K * N, 8); // one B shared by every batch item (stride 0)
    const c0 = randomValues(batch * M * N, 9);
    for (const transB of [false, true]) {
      const args = { a, b, M, N, K, batch, aOffset, bBatchStride: 0, transB };
      const got = await runGemm(opts, { ...args, c0, cSize: c0.length, accumulate: true });
      expectClose(got, gemmRef({ ...args, accumulate: c0 }), TOL, `${name} batched ${M}×${N}×${K} transB=${transB}`);
    }
    // batch items summed in pairs (an NCHW filter gradient's sum over images), both operands batched
    const items = 4;
    const aItems = randomValues(aOffset + items * M * K, 13);
    const bItems = randomValues(items * K * N, 11);
    const c2 = randomValues(2 * M * N, 12);
    for (const [transA, transB, accumulate] of [[false, true, false], [true, false, true]] as const) {
      const args = { a: aItems, b: bItems, M, N, K, batch: items, sumItems: 2, aOffset, transA, transB };
      const got = await runGemm(opts, { ...args, c0: c2, cSize: c2.length, accumulate });
      expectClose(got, gemmRef({ ...args, ...(accumulate ? { accumulate: c2 } : {}) }), TOL, `${name} ${M}×${N}×${K} items summed in pairs transA=${transA} transB=${transB} accumulate=${accumulate}`);
    }
    // write into the second half of a larger C: an offset output, as for a channel slice of a concat
    const c1 = randomValues(2 * M * N, 10);
    const got = await runGemm(opts, { a, b, c0: c1, cSize: c1.length, M, N, K, aOffset, cOffset: M * N });
    expectClose(got.subarray(0, M * N), Float32Array.from(c1.subarray(0, M * N)), { atol: 0, rtol: 0 }, `${name} untouched head`);
    expectClose(got.subarray(M * N), gemmRef({ a, b, M, N, K, aOffset }), TOL, `${name} offset output`);
  }
}

describe('matmul', function () {
  // Each case compiles kernel variants (LLVM on lavapipe) and checks gradients by finite differences:
  // seconds alone, minutes on a loaded 2-core machine.
  this.timeout(600_000);
  for (const [name, opts] of KERNELS) {
    // The default kernel picks a shipped tile by shape (8×16 or 8×32 with B shared, tens of seconds of
    // LLVM each on lavapipe per transpose and alignment); the transposes and alignments are the same
    // generator code the small tiles and the shared-B test check on every shape, so the default kernel
    // takes each shape in one transpose, all four in turn.
    it(`${name} GEMM kernel matches the float64 reference for every shape and ${name === 'fast' ? 'one transpose each, all four in turn' : 'transpose'}`, async () => checkShapes(name, opts, name === 'fast'));
    // The shipped tiles (chosen by shape for the default kernel) compile for seconds each on lavapipe, and
    // every batch shape is a new set of specialisations (accumulate, summed items, alignments); the item
    // loop, offsets and accumulation are the same code for every tile, so the default kernel takes the
    // scalar-load shape only, and the small tiles every shape.
    it(`${name} GEMM kernel handles batches, broadcast operands, offsets and accumulation`, async () => checkBatches(name, opts, name === 'fast' ? [[7, 9, 6]] : BATCH_SHAPES));
  }

  it('defaultGemmTile shares B across subgroups only on a software adapter with a fixed size, lanes along M', () => {
    const rt = (software: boolean, subgroupSize: number) => ({ description: { software, subgroupSize } }) as unknown as Runtime;
    const shared = { ...SUBGROUP_GEMM_TILE, lanes: 'm', subgroupB: 8 };
    assert.deepEqual(defaultGemmTile(rt(true, 8), 1024, 1024), shared);
    assert.deepEqual(defaultGemmTile(rt(true, 8), 8192, 64), shared);
    // more column tiles than row tiles (a 4-row batch through a wide layer): the 8×8 tile, lanes along N
    assert.deepEqual(defaultGemmTile(rt(true, 8), 4, 512), { ...FAST_GEMM_TILE, lanes: 'n' });
    assert.deepEqual(defaultGemmTile(rt(true, 0), 1024, 1024), { ...FAST_GEMM_TILE, lanes: 'n' });
    assert.deepEqual(defaultGemmTile(rt(false, 32), 8192, 64), { ...FAST_GEMM_TILE, lanes: 'm' });
    // a subgroup wider than the workgroup cannot share
    assert.equal(defaultGemmTile(rt(true, 32), 1024, 1024).subgroupB, undefined);
    // shapes the 8×32 tile in 16 lanes pads: narrower columns for N = 16 or 48, 8 lanes for M = 64
    const pick = (M: number, N: number, size = 8) => { const t = defaultGemmTile(rt(true, size), M, N); return `${t.rows}×${t.cols}/${t.wg}`; };
    assert.equal(pick(512, 16), '8×16/16');
    assert.equal(pick(128, 48), '8×16/16');
    assert.equal(pick(64, 16), '8×16/8');
    assert.equal(pick(192, 48), '8×16/8');
    assert.equal(pick(64, 64), '8×32/8');
    assert.equal(pick(128, 64), '8×32/16');
    // with subgroups of 16 no 8-lane workgroup can share B
    assert.equal(pick(64, 16, 16), '8×16/16');
  });

  it('fast GEMM kernel with B shared across subgroups matches the reference (shapes, transposes, batches)', async function () {
    const size = getRuntime().description.subgroupSize;
    if (size === 0) this.skip();
    const wg = Math.max(16, size);
    // B vec4s per k step: 4·cols/4 (or cols when transposed) = 32 and 12 — several slots per lane,
    // and a count that is no multiple of the subgroup's lanes; vec4 and scalar B (N % 4); rows past
    // M clamped, not returned. (Small row counts: the shipped 8×32 tile compiles for seconds.)
    // A workgroup of exactly one subgroup, as the narrow SUBGROUP_GEMM_TILES variants use.
    // Every transpose, batches, offsets and accumulation (the same code for every tile) with the last
    // tile only, the quickest of the three to compile; the slot counts of the first two take each shape
    // in one transpose, all four in turn (transB changes the count).
    for (const [k, [rows, cols, lanes]] of ([[2, 32, wg], [3, 12, wg], [2, 16, size]] as const).entries()) {
      const tile: GemmTile = { rows, cols, wg: lanes, lanes: 'm', subgroupB: size };
      await checkShapes(`shared-B ${rows}×${cols}`, { tile }, k !== 2);
      if (k === 2) await checkBatches(`shared-B ${rows}×${cols}`, { tile });
    }
  });

  it('matmul computes 2-D and batched products with gradients for both operands', async () => {
    const cases: Array<[number[], number[]]> = [[[1, 1], [1, 1]], [[3, 5], [5, 7]], [[2, 4, 3], [2, 3, 5]], [[8, 12], [12, 4]]];
    for (const [k, [sa, sb]] of cases.entries()) {
      const a = randomValues(sa.reduce((x, y) => x * y), 30 + k);
      const b = randomValues(sb.reduce((x, y) => x * y), 40 + k);
      const got = await gpuValues(() => matmul(tensor(Float32Array.from(a), sa), tensor(Float32Array.from(b), sb)));
      expectClose(got, matmulRef(a, sa, b, sb), TOL, `matmul [${sa}]×[${sb}]`);
      await gradCheck({
        inputs: [{ shape: sa, values: a }, { shape: sb, values: b }],
        gpu: ([x, y]) => matmul(x!, y!),
        ref: ([x, y]) => matmulRef(x!, sa, y!, sb),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `matmul [${sa}]×[${sb}]`,
      });
    }
  });

  it('matmul with transB computes a·bᵀ from b as stored, with gradients for both operands', async () => {
    const transpose2 = (v: Float64Array, [rows, cols]: number[]): Float64Array => Float64Array.from({ length: v.length }, (_, i) => v[(i % rows) * cols + Math.floor(i / rows)]!);
    const cases: Array<[number[], number[]]> = [[[1, 1], [1, 1]], [[3, 5], [7, 5]], [[8, 12], [4, 12]], [[5, 16], [10, 16]]];
    for (const [k, [sa, sb]] of cases.entries()) {
      const a = randomValues(sa.reduce((x, y) => x * y), 50 + k);
      const b = randomValues(sb.reduce((x, y) => x * y), 60 + k);
      const sbT = [sb[1]!, sb[0]!];
      const got = await gpuValues(() => matmul(tensor(Float32Array.from(a), sa), tensor(Float32Array.from(b), sb), { transB: true }));
      expectClose(got, matmulRef(a, sa, transpose2(b, sb), sbT), TOL, `matmul [${sa}]×[${sb}]ᵀ`);
      await gradCheck({
        inputs: [{ shape: sa, values: a }, { shape: sb, values: b }],
        gpu: ([x, y]) => matmul(x!, y!, { transB: true }),
        ref: ([x, y]) => matmulRef(x!, sa, transpose2(y!, sb), sbT),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `matmul [${sa}]×[${sb}]ᵀ`,
      });
    }
    let msg = '';
    try { matmul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2]), { transB: true }); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes('[2,3]') || !msg.includes('[4,2]') || !msg.includes('transB')) throw new Error(`unexpected error: '${msg}'`);
  });

  it('matmul rejects mismatched inner or batch dimensions, naming the shapes', () => {
    const bad: Array<[number[], number[]]> = [[[2, 3], [4, 5]], [[2, 2, 3], [3, 3, 5]], [[4, 2, 3], [2, 3, 5]], [[3], [4]]];
    for (const [sa, sb] of bad) {
      const a = tensor(new Float32Array(sa.reduce((x, y) => x * y)), sa);
      const b = tensor(new Float32Array(sb.reduce((x, y) => x * y)), sb);
      let msg = '';
      try { matmul(a, b); } catch (e) { msg = (e as Error).message; }
      if (!msg.includes(`[${sa}]`) || !msg.includes(`[${sb}]`)) throw new Error(`unexpected error for [${sa}]×[${sb}]: '${msg}'`);
      a.dispose(); b.dispose();
    }
  });

  it('matmul broadcasts batch axes like torch.matmul (shared 2-D operands, partial broadcasts, 1-D operands) with gradients', async () => {
    /** torch.matmul in float64 on row-major data. */
    const broadcastRef = (a: Float64Array, as: number[], b: Float64Array, bs: number[], transB: boolean): Float64Array => {
      const a2 = as.length === 1 ? [1, as[0]!] : as;
      const b2 = bs.length === 1 ? (transB ? [1, bs[0]!] : [bs[0]!, 1]) : bs;
      const [M, K] = a2.slice(-2) as [number, number];
      const N = transB ? b2.at(-2)! : b2.at(-1)!;
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
      const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
      const aStr = broadcastStrides(a2.slice(0, -2), batch);
      const bStr = broadcastStrides(b2.slice(0, -2), batch);
      const out = new Float64Array(size(batch) * M * N);
      const bs0 = stridesOf(batch);
      for (let z = 0; z < size(batch); z++) {
        let ia = 0, ib = 0;
        batch.forEach((d, k) => { const c = Math.floor(z / bs0[k]!) % d; ia += c * aStr[k]!; ib += c * bStr[k]!; });
        for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += a[ia * M * K + m * K + k]! * b[ib * K * N + (transB ? n * K + k : k * N + n)]!;
          out[(z * M + m) * N + n] = acc;
        }
      }
      return out;
    };
    const cases: Array<[number[], number[], boolean, number[]]> = [
      [[2, 3, 4], [4, 5], false, [2, 3, 5]], [[3, 4], [2, 4, 5], false, [2, 3, 5]], [[2, 1, 3, 4], [3, 4, 2], false, [2, 3, 3, 2]],
      [[2, 3, 4], [5, 4], true, [2, 3, 5]], [[2, 1, 3, 4], [1, 2, 5, 4], true, [2, 2, 3, 5]], [[4], [2, 4, 3], false, [2, 3]], [[2, 3, 4], [4], false, [2, 3]], [[4], [4], false, []],
    ];
    for (const [k, [as, bs, transB, outShape]] of cases.entries()) {
      const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const a = randomValues(n(as), 900 + k);
      const b = randomValues(n(bs), 910 + k);
      const label = `[${as}]×[${bs}]${transB ? ' transB' : ''}`;
      const out = tidy(() => matmul(tensor(Float32Array.from(a), as), tensor(Float32Array.from(b), bs), { transB }));
      if (out.shape.join() !== outShape.join()) throw new Error(`${label}: shape [${out.shape}], expected [${outShape}]`);
      expectClose(await out.data(), broadcastRef(a, as, b, bs, transB), TOL, label);
      out.dispose();
      await gradCheck({
        inputs: [{ shape: as, values: a }, { shape: bs, values: b }],
        gpu: ([x, y]) => matmul(x!, y!, { transB }),
        ref: ([x, y]) => broadcastRef(x!, as, y!, bs, transB),
        tol: { atol: 3e-3, rtol: 3e-3 },
        label,
      });
    }
  });
});

import assert from 'node:assert/strict';
import {
  conv2d, conv2dAlgorithm, conv2dGeometry, conv2dTransformedDy, conv2dForwardWith, conv2dWithStatistics, conv2dOutputShape, conv2dForward, conv2dForwardSimple, conv2dBackwardData, conv2dBackwardDataSimple,
  conv2dBackwardFilter, conv2dBackwardFilterSimple, conv2dBiasGrad, conv2dBiasGradSimple,
  type Conv2dGeometry, type Conv2dOptions, type Conv2dDataFormat,
} from './conv2d.js';
import { conv2dForwardRef, conv2dBackwardDataRef, conv2dBackwardFilterRef, conv2dBiasGradRef, nchwToNhwc } from './reference.js';
import { tensor } from '../creation/creation.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';
import { getRuntime } from '../../runtime/global.js';
import { tidy } from '../../memory.js';
import type { Tensor } from '../../tensor.js';
import { gemmTileFor, HARDWARE_CONV_TUNING, SOFTWARE_CONV_TUNING, type ConvTuning } from '@squeeze/kernels-wgsl';

interface Case { x: [number, number, number, number]; out: number; k: [number, number]; opts: Omit<Conv2dOptions, 'bias' | 'dataFormat'> }

// x is given as [N, C, H, W]; every case runs in both formats.
const cases: Case[] = [
  { x: [2, 3, 8, 8], out: 5, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [1, 4, 5, 7], out: 8, k: [3, 3], opts: { stride: 2, padding: 'SAME' } },
  { x: [2, 6, 7, 6], out: 6, k: [2, 2], opts: { padding: 'SAME' } },
  { x: [1, 3, 6, 6], out: 4, k: [2, 2], opts: { stride: 2, padding: 'SAME' } },
  { x: [2, 3, 8, 8], out: 16, k: [2, 2], opts: { padding: 'SAME' } },
  { x: [2, 8, 4, 4], out: 12, k: [1, 1], opts: {} },
  { x: [3, 5, 3, 3], out: 7, k: [1, 1], opts: { padding: 'VALID' } },
  { x: [2, 16, 1, 1], out: 10, k: [1, 1], opts: {} },
  { x: [1, 4, 1, 1], out: 4, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [1, 4, 9, 9], out: 4, k: [3, 3], opts: { stride: 2, padding: 'VALID' } },
  { x: [2, 5, 6, 5], out: 3, k: [3, 3], opts: { padding: 1 } },
  { x: [1, 3, 7, 8], out: 9, k: [3, 2], opts: { stride: [2, 1], padding: [[0, 2], [1, 0]] } },
  { x: [2, 4, 5, 5], out: 4, k: [1, 1], opts: { stride: 2 } },
  { x: [2, 12, 4, 8], out: 8, k: [1, 1], opts: { padding: 1 } },
  // more pixels than one filter-gradient chunk, several channel tiles with ragged ends
  { x: [5, 20, 8, 8], out: 20, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [4, 8, 10, 10], out: 8, k: [3, 3], opts: { padding: 'SAME' } },
  { x: [3, 16, 12, 12], out: 24, k: [1, 1], opts: {} },
  // Winograd tiles cut by the edges, padding that is not SAME (backward-data pads by 2 − pad)
  { x: [2, 6, 7, 9], out: 8, k: [3, 3], opts: { padding: [[0, 2], [2, 1]] } },
  { x: [1, 5, 6, 7], out: 4, k: [3, 3], opts: { padding: 'VALID' } },
];

const TOL = { atol: 2e-4, rtol: 2e-4 };

/**
 * Small tiles for the shape matrix: the WGSL comes from the same generators (tile sizes are
 * parameters), but an 8×8 GEMM tile compiles in ~1 s on lavapipe where the tuned 16×16 takes ~6 s.
 * Tiny filter-gradient chunks make most cases split their reduction over several chunks.
 */
const TEST_TUNING: ConvTuning = {
  gemm: { pixels: 8, channels: 8, workgroup: 16, unroll: { NCHW: 1, NHWC: 1 } },
  backwardFilter: {
    NCHW: { inChannels: 4, outChannels: 8, workgroup: 16, chunkPixels: 32 },
    NHWC: { inChannels: 8, outChannels: 8, workgroup: 16, chunkPixels: 32 },
  },
  winograd: null,
  helperWorkgroup: 64,
  nchwFilterViaNHWC: false,
};

/** Winograd tiles for the 3×3 stride-1 cases: 4 and 8 channels per invocation, 1 and 2 per step. */
const WINOGRAD_TILES = [{ channels: 4, workgroup: 16, unroll: 1 }, { channels: 8, workgroup: 8, unroll: 2 }];

function label(c: Case, format: Conv2dDataFormat): string {
  return `x [${c.x}] w ${c.out}×${c.k.join('×')} ${JSON.stringify(c.opts)} ${format}`;
}

function layoutShape(format: Conv2dDataFormat, [n, ch, h, w]: number[]): number[] {
  return format === 'NCHW' ? [n!, ch!, h!, w!] : [n!, h!, w!, ch!];
}

describe('conv2d', () => {
  it('resolves SAME padding as TensorFlow (odd pixel at the bottom/right)', () => {
    const g = conv2dGeometry([32, 3, 32, 32], [96, 3, 2, 2], { padding: 'SAME' });
    const pads = (geo: Conv2dGeometry) => [geo.OH, geo.OW, geo.padTop, geo.padBottom, geo.padLeft, geo.padRight].join(',');
    if (pads(g) !== '32,32,0,1,0,1') throw new Error(`2×2 SAME on 32×32: ${pads(g)}`);
    const s2 = conv2dGeometry([1, 1, 6, 5], [1, 1, 3, 3], { padding: 'SAME', stride: 2, dataFormat: 'NCHW' });
    if (pads(s2) !== '3,3,0,1,1,1') throw new Error(`3×3 stride 2 SAME on 6×5: ${pads(s2)}`);
    const nhwc = conv2dGeometry([2, 7, 9, 4], [8, 4, 3, 3], { dataFormat: 'NHWC' });
    if (conv2dOutputShape(nhwc).join(',') !== '2,5,7,8') throw new Error(`NHWC VALID output [${conv2dOutputShape(nhwc)}]`);
  });

  it('rejects mismatched channels, naming both shapes', () => {
    let msg = '';
    try { conv2dGeometry([1, 3, 8, 8], [4, 5, 3, 3]); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes('[1,3,8,8]') || !msg.includes('[4,5,3,3]')) throw new Error(`unexpected error: '${msg}'`);
  });

  it('fast kernels == simple kernels == float64 reference (forward, dx, dw, bias) in both formats', async () => {
    for (const [k, c] of cases.entries()) {
      for (const format of ['NCHW', 'NHWC'] as const) {
        const xShape = layoutShape(format, c.x);
        const wShape = [c.out, c.x[1], c.k[0], c.k[1]];
        const g = conv2dGeometry(xShape, wShape, { ...c.opts, dataFormat: format });
        const yShape = conv2dOutputShape(g);
        const xv = randomValues(c.x.reduce((a, b) => a * b, 1), 100 + k);
        const wv = randomValues(wShape.reduce((a, b) => a * b, 1), 200 + k);
        const bv = randomValues(c.out, 300 + k);
        const dyv = randomValues(yShape.reduce((a, b) => a * b, 1), 400 + k);
        const tx = () => tensor(Float32Array.from(xv), xShape);
        const tw = () => tensor(Float32Array.from(wv), wShape);
        const tb = () => tensor(Float32Array.from(bv), [c.out]);
        const tdy = () => tensor(Float32Array.from(dyv), yShape);
        const name = label(c, format);
        const check = async (what: string, fast: () => Tensor, simple: () => Tensor, ref: Float64Array) => {
          expectClose(await gpuValues(simple), ref, TOL, `${name}: simple ${what}`);
          expectClose(await gpuValues(fast), ref, TOL, `${name}: fast ${what}`);
        };
        const tu = TEST_TUNING;
        // Channel loops of 1, 2 and 4 per step (with remainders: the cases have odd channel counts).
        // The last: weight rows assembled with subgroupBroadcast (where the adapter has subgroups) and
        // wider source loads (NHWC, even channels: a step's two channels as one vec2; NCHW 1×1 with
        // H·W a multiple of the tile: a tile's pixels as vec4s); then the same with 1×1 forwards
        // reading w's columns as given (no reorder); last, forwards with the source channels and
        // kernel size compiled in, where the reduction is as short as the shipped tuning allows.
        for (const [unroll, subgroupWeights, weightsAsGiven, fixed] of [[1, false, false, false], [2, false, false, false], [4, false, false, false], [2, true, false, false], [2, true, true, false], [2, false, false, true]] as const) {
          if (weightsAsGiven && !(c.k[0] === 1 && c.k[1] === 1)) continue;
          if (fixed && c.x[1]! * c.k[0] * c.k[1] > 16) continue;
          const fixedSourceMaxReduction = fixed ? { NCHW: 16, NHWC: 16 } : undefined;
          const tw8 = { ...tu, gemm: { ...tu.gemm, unroll: { NCHW: unroll, NHWC: unroll }, subgroupWeights, pairLoads: subgroupWeights, weightsAsGiven, fixedSourceMaxReduction } };
          await check(`forward (unroll ${unroll}${subgroupWeights ? ', subgroup weights, wider loads' : ''}${weightsAsGiven ? ', weights as given' : ''}${fixed ? ', source shape compiled in' : ''})`, () => conv2dForward(tx(), tw(), tb(), g, tw8), () => conv2dForwardSimple(tx(), tw(), tb(), g), conv2dForwardRef(xv, wv, bv, g));
          if (fixed) continue; // forwards only
          await check(`dx (unroll ${unroll}${subgroupWeights ? ', subgroup weights, wider loads' : ''})`, () => conv2dBackwardData(tdy(), tw(), g, tw8), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
        }
        // Few input channels: dx as dcols = dy · w through the GEMM, then the col2im gather.
        const tCols = { ...tu, colsDataBelowChannels: 4 };
        if (conv2dAlgorithm(g, 'backwardData', tCols) === 'GEMM + col2im') {
          await check('dx (GEMM + col2im)', () => conv2dBackwardData(tdy(), tw(), g, tCols), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
        } else {
          assert.ok(c.x[1]! >= 4 || (c.k[0] === 1 && c.k[1] === 1), `${name}: col2im is for convolutions with fewer than 4 input channels`);
        }
        if (c.k[0] === 3 && c.k[1] === 3 && g.strideH === 1 && g.strideW === 1) {
          for (const winograd of WINOGRAD_TILES) {
            const tWin = { ...tu, winograd };
            const what = `(Winograd ${winograd.channels} channels, unroll ${winograd.unroll})`;
            await check(`forward ${what}`, () => conv2dForward(tx(), tw(), tb(), g, tWin), () => conv2dForwardSimple(tx(), tw(), tb(), g), conv2dForwardRef(xv, wv, bv, g));
            await check(`dx ${what}`, () => conv2dBackwardData(tdy(), tw(), g, tWin), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
          }
          // Winograd around the batched GEMM: transforms of both tile sizes, channels not multiples of 4.
          for (const m of [2, 4] as const) {
            const tWin = { ...tu, winogradGemm: { m, m2Below: 0 } };
            await check(`forward (Winograd-GEMM F(${m}, 3))`, () => conv2dForward(tx(), tw(), tb(), g, tWin), () => conv2dForwardSimple(tx(), tw(), tb(), g), conv2dForwardRef(xv, wv, bv, g));
            await check(`dx (Winograd-GEMM F(${m}, 3))`, () => conv2dBackwardData(tdy(), tw(), g, tWin), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
            await check(`dw (Winograd-GEMM F(${m}, 3))`, () => conv2dBackwardFilter(tx(), tdy(), g, tWin), () => conv2dBackwardFilterSimple(tx(), tdy(), g), conv2dBackwardFilterRef(xv, dyv, g));
            // Backward-data as the forward's adjoint (patch gradients gathered into dx), on its own
            // and with dy's transform shared with the filter gradient.
            const tAdj = { ...tu, winogradGemm: { m, m2Below: 0, adjointData: true } };
            await check(`dx (Winograd-GEMM F(${m}, 3) adjoint)`, () => conv2dBackwardData(tdy(), tw(), g, tAdj), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
            const shared = (pass: 'dx' | 'dw') => () => tidy(() => {
              const dy = tdy();
              const z = conv2dTransformedDy(dy, g, tAdj);
              if (!z) throw new Error('the adjoint applies to this shape: a transformed dy is expected');
              return pass === 'dx' ? conv2dBackwardData(dy, tw(), g, tAdj, z) : conv2dBackwardFilter(tx(), dy, g, tAdj, undefined, z);
            });
            await check(`dx (Winograd-GEMM F(${m}, 3) adjoint, shared dy transform)`, shared('dx'), () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
            // ... and with the forward's transformed filter.
            const withForwardU = () => tidy(() => {
              const w = tw();
              const { transformedW } = conv2dForwardWith(tx(), w, null, g, tAdj, { transformedW: true });
              if (!transformedW) throw new Error('the forward should return its transformed filter');
              return conv2dBackwardData(tdy(), w, g, tAdj, undefined, transformedW);
            });
            await check(`dx (Winograd-GEMM F(${m}, 3) adjoint, the forward's U)`, withForwardU, () => conv2dBackwardDataSimple(tdy(), tw(), g), conv2dBackwardDataRef(dyv, wv, g));
            await check(`dw (Winograd-GEMM F(${m}, 3), shared dy transform)`, shared('dw'), () => conv2dBackwardFilterSimple(tx(), tdy(), g), conv2dBackwardFilterRef(xv, dyv, g));
          }
        }
        await check('dw', () => conv2dBackwardFilter(tx(), tdy(), g, tu), () => conv2dBackwardFilterSimple(tx(), tdy(), g), conv2dBackwardFilterRef(xv, dyv, g));
        // NCHW through the NHWC kernel (taken where C and O are multiples of 4 and the kernel is not 1×1).
        await check('dw via NHWC', () => conv2dBackwardFilter(tx(), tdy(), g, { ...tu, nchwFilterViaNHWC: true }), () => conv2dBackwardFilterSimple(tx(), tdy(), g), conv2dBackwardFilterRef(xv, dyv, g));
        await check('bias gradient', () => conv2dBiasGrad(tdy(), g, tu), () => conv2dBiasGradSimple(tdy(), g), conv2dBiasGradRef(dyv, g));
      }
    }
  });

  it('picks the wide GEMM tile by destination channels, and the wide tile matches the reference', async () => {
    const base = TEST_TUNING.gemm;
    const wide: ConvTuning = { ...TEST_TUNING, gemm: { ...base, unroll: { NCHW: 2, NHWC: 2 }, subgroupWeights: true, pairLoads: true, weightsAsGiven: true, wide: [{ minChannels: 12, pixels: 4, channels: 16 }, { minChannels: 24, pixels: 4, channels: 24 }] } };
    const chosen = (cd: number) => { const t = gemmTileFor(wide.gemm, cd); return `${t.pixels}x${t.channels}`; };
    // the entry that pads least, the first of equals (40 and 48 channels: 48 either way)
    const picks = [11, 12, 24, 40, 48, 72].map(chosen).join(' ');
    if (picks !== '8x8 4x16 4x24 4x16 4x16 4x24') throw new Error(`tiles for 11/12/24/40/48/72 channels: ${picks}`);
    if (gemmTileFor(base, 64) !== base) throw new Error('a tile without wide entries must stay as it is');
    // an entry limited to short reductions (listed first: it wins ties) only where the reduction is that short
    const shortK = { ...wide.gemm, wide: [{ minChannels: 16, maxReduction: 12, pixels: 4, channels: 32 }, ...wide.gemm.wide!] };
    assert.deepEqual([32, 12, 13].map((k) => { const t = gemmTileFor(shortK, 32, k); return `${t.pixels}x${t.channels}`; }), ['4x16', '4x32', '4x16']);
    // too few pixels to fill a workgroup with tiles (16 lanes): 4 pixels a tile
    assert.deepEqual([8 * 16, 8 * 15, 4].map((px) => { const t = gemmTileFor(base, 8, Infinity, px); return `${t.pixels}x${t.channels}`; }), ['8x8', '4x8', '4x8']);
    // 20 → 14 channels: forward (14 destination channels, one ragged wide tile) and dx (20: two, the
    // second ragged) take the wide tile; 6 → 9: both stay on the base tile; 14 → 20: both wide;
    // 24 → 24: the 24-channel tile both ways.
    for (const [k, [n, c, h, w, out, kernel]] of ([[2, 20, 6, 5, 14, 3], [3, 6, 5, 4, 9, 1], [2, 14, 4, 4, 20, 1], [2, 24, 4, 3, 24, 1]] as const).entries()) {
      for (const format of ['NCHW', 'NHWC'] as const) {
        const xShape = layoutShape(format, [n, c, h, w]);
        const g = conv2dGeometry(xShape, [out, c, kernel, kernel], { padding: 'SAME', dataFormat: format });
        const xv = randomValues(n * c * h * w, 700 + k);
        const wv = randomValues(out * c * kernel * kernel, 800 + k);
        const dyv = randomValues(conv2dOutputShape(g).reduce((a, b) => a * b, 1), 900 + k);
        const what = `x [${n},${c},${h},${w}] → ${out} ${kernel}×${kernel} ${format}, wide tiles`;
        expectClose(await gpuValues(() => conv2dForward(tensor(Float32Array.from(xv), xShape), tensor(Float32Array.from(wv), [out, c, kernel, kernel]), null, g, wide)),
          conv2dForwardRef(xv, wv, null, g), TOL, `${what}: forward`);
        expectClose(await gpuValues(() => conv2dBackwardData(tensor(Float32Array.from(dyv), conv2dOutputShape(g)), tensor(Float32Array.from(wv), [out, c, kernel, kernel]), g, wide)),
          conv2dBackwardDataRef(dyv, wv, g), TOL, `${what}: dx`);
      }
    }
  });

  it('NHWC filter gradients with x rows shared across a subgroup match the reference', async () => {
    // 64 output channels in tiles of 8: 8 output tiles per (input tile, tap, chunk), a multiple of
    // lavapipe's subgroup size, so the shared-row path runs; 12 input channels leave a ragged tile.
    const tu: ConvTuning = { ...TEST_TUNING, backwardFilter: { ...TEST_TUNING.backwardFilter, NHWC: { ...TEST_TUNING.backwardFilter.NHWC, subgroupX: true } } };
    for (const [k, [x, kernel, padding]] of ([[[2, 16, 6, 5], 3, 'SAME'], [[3, 12, 4, 4], 1, 'VALID'], [[1, 8, 7, 7], 3, 'VALID']] as const).entries()) {
      const [n, c, h, w] = x;
      const g = conv2dGeometry([n, h, w, c], [64, c, kernel, kernel], { padding, dataFormat: 'NHWC' });
      const xv = randomValues(n * c * h * w, 500 + k);
      const dyv = randomValues(n * g.OH * g.OW * 64, 600 + k);
      const got = await gpuValues(() => conv2dBackwardFilter(tensor(Float32Array.from(xv), [n, h, w, c]), tensor(Float32Array.from(dyv), conv2dOutputShape(g)), g, tu));
      expectClose(got, conv2dBackwardFilterRef(xv, dyv, g), TOL, `dw x [${x}] ${kernel}×${kernel} ${padding} NHWC, shared x rows`);
    }
  });

  it('small-patch NHWC filter gradients (all of C·KH·KW per invocation) match the reference', async () => {
    // Output tiles of 8 (12 channels: a ragged last tile), chunks of 8 pixels (several per image).
    const tu: ConvTuning = { ...TEST_TUNING, filterPatch: { outChannels: 8, workgroup: 16, chunkPixels: 8 } };
    const patchCases: Array<[number[], number, [number, number], Conv2dOptions]> = [
      [[2, 3, 9, 10], 12, [2, 2], { padding: 'SAME' }],
      [[1, 3, 6, 6], 4, [2, 2], { stride: 2, padding: 'SAME' }],
      [[1, 2, 7, 8], 8, [3, 2], { stride: [2, 1], padding: [[0, 2], [1, 0]] }],
      [[2, 1, 5, 5], 8, [4, 4], { padding: 'VALID' }],
    ];
    for (const [k, [[n, c, h, w], out, kernel, opts]] of patchCases.entries()) {
      const g = conv2dGeometry([n!, h!, w!, c!], [out, c!, ...kernel], { ...opts, dataFormat: 'NHWC' });
      assert.equal(conv2dAlgorithm(g, 'backwardFilter', tu), 'filter patch');
      const xv = randomValues(n! * c! * h! * w!, 700 + k);
      const dyv = randomValues(n! * g.OH * g.OW * out, 800 + k);
      const got = await gpuValues(() => conv2dBackwardFilter(tensor(Float32Array.from(xv), [n!, h!, w!, c!]), tensor(Float32Array.from(dyv), conv2dOutputShape(g)), g, tu));
      expectClose(got, conv2dBackwardFilterRef(xv, dyv, g), TOL, `dw x [${[n, h, w, c]}] ${kernel.join('×')} ${JSON.stringify(opts)} NHWC, small patch`);
    }
    // 1×1, too large a patch, NCHW, or O not a multiple of 4: the per-tap kernel.
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 4, 4, 3], [8, 3, 1, 1], { dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials');
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 4, 4, 5], [8, 5, 2, 2], { dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials');
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 3, 4, 4], [8, 3, 2, 2], { dataFormat: 'NCHW' }), 'backwardFilter', tu), 'filter partials');
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 4, 4, 3], [6, 3, 2, 2], { dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials');
  });

  it('1×1 filter gradients as the batched GEMM over pixel chunks match the reference (both formats, a ragged last chunk)', async () => {
    // Chunks of 32 pixels: 2·9·8 = 144 pixels are four full chunks and a ragged one of 16 (NHWC);
    // NCHW takes one image per chunk where an image has 32 pixels or more, else sums as many images
    // as fit into 32 pixels into each partial (the GEMM's sumItems): 4 and 3 images of 2×4 and 3×3
    // (one partial, two), 4 images of 2×2 into one partial that, in [O][C] order, is the gradient
    // itself. The 8 → 32 cases run the GEMM with its rows along the output channels (where the
    // lanes have subgroups to share), summed in output order. Last, single partials with O not a
    // multiple of 4, written as the gradient directly; 1×1 images (conv10's) in NCHW as in NHWC; and a
    // single partial whose rows run along C (32 → 8), which is summed into [O][C] order.
    const tu: ConvTuning = { ...TEST_TUNING, pointwiseFilterGemm: true };
    for (const [k, [n, c, h, w, out]] of ([[2, 6, 9, 8, 12], [3, 9, 8, 8, 20], [1, 4, 16, 4, 8], [2, 8, 9, 8, 32], [4, 8, 2, 4, 12], [6, 8, 3, 3, 16], [4, 8, 2, 2, 32], [2, 8, 2, 4, 10], [5, 12, 1, 1, 10], [2, 32, 2, 4, 8]] as const).entries()) {
      for (const format of ['NCHW', 'NHWC'] as const) {
        const xShape = layoutShape(format, [n, c, h, w]);
        const g = conv2dGeometry(xShape, [out, c, 1, 1], { dataFormat: format });
        assert.equal(conv2dAlgorithm(g, 'backwardFilter', tu), 'filter GEMM');
        const xv = randomValues(n * c * h * w, 1100 + k);
        const dyv = randomValues(n * h * w * out, 1200 + k);
        const got = await gpuValues(() => conv2dBackwardFilter(tensor(Float32Array.from(xv), xShape), tensor(Float32Array.from(dyv), conv2dOutputShape(g)), g, tu));
        expectClose(got, conv2dBackwardFilterRef(xv, dyv, g), TOL, `dw x [${xShape}] 1×1 → ${out} ${format}, filter GEMM`);
      }
    }
    // Not 1×1 stride 1, or O not a multiple of 4 over more than one partial: the per-tap kernel.
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 4, 4, 8], [8, 8, 1, 1], { stride: 2, dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials');
    assert.equal(conv2dAlgorithm(conv2dGeometry([2, 5, 8, 8], [10, 8, 1, 1], { dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials'); // 80 pixels: more than one partial
    assert.equal(conv2dAlgorithm(conv2dGeometry([1, 4, 4, 8], [8, 8, 3, 3], { padding: 'SAME', dataFormat: 'NHWC' }), 'backwardFilter', tu), 'filter partials');
  });

  it('forwards sum their output\'s batch-norm statistics where the tuning asks (NHWC implicit GEMM and Winograd-GEMM)', async () => {
    const tu: ConvTuning = { ...TEST_TUNING, epilogueStatistics: true };
    const sharedWeights: ConvTuning = { ...tu, gemm: { ...tu.gemm, unroll: { NCHW: 2, NHWC: 2 }, subgroupWeights: true } };
    const size = getRuntime().description.subgroupSize;
    // [N, C, H, W], out, kernel, options, tuning, whether statistics come back.
    const statCases: Array<[number[], number, number, Conv2dOptions, ConvTuning, boolean]> = [
      [[2, 6, 5, 7], 12, 1, {}, tu, true], // pointwise, 70 pixels: a ragged last tile of 8; 12 channels: a ragged tile
      [[2, 3, 9, 10], 8, 2, { padding: 'SAME' }, tu, true], // conv1-like
      [[1, 5, 7, 6], 8, 3, { padding: 'SAME' }, { ...tu, winogradGemm: { m: 4, m2Below: 0 } }, true], // tiles cut by the edges
      [[2, 4, 5, 5], 4, 3, { padding: 'SAME' }, { ...tu, winogradGemm: { m: 2, m2Below: 0 } }, true],
      [[2, 4, 5, 5], 6, 1, {}, tu, false], // O % 4 != 0
      [[2, 4, 5, 5], 8, 1, {}, TEST_TUNING, false], // not asked for by the tuning
      [[2, 4, 5, 5], 8, 3, { padding: 'SAME' }, { ...tu, winograd: WINOGRAD_TILES[0]! }, false], // the fused Winograd kernel
      // shared weights: summed per subgroup (where the adapter has one); 180 pixels = 23 tiles of 8
      // in two workgroups of 16: the third subgroup partly live, the fourth not at all
      [[2, 6, 9, 10], 16, 1, {}, sharedWeights, true],
      [[2, 6, 9, 10], 12, 1, {}, { ...sharedWeights, gemm: { ...sharedWeights.gemm, weightsAsGiven: true } }, true], // w read as given, a ragged channel tile
      [[2, 3, 9, 10], 8, 2, { padding: 'SAME' }, sharedWeights, true],
    ];
    for (const format of ['NHWC', 'NCHW'] as const) for (const [k, [[n, c, h, w], out, kernel, opts, tuning, expected]] of statCases.entries()) {
      const xShape = layoutShape(format, [n!, c!, h!, w!]);
      const wShape = [out, c!, kernel, kernel];
      const g = conv2dGeometry(xShape, wShape, { ...opts, dataFormat: format });
      const xv = randomValues(n! * c! * h! * w!, 900 + k);
      const wv = randomValues(out * c! * kernel * kernel, 950 + k);
      const shiftV = randomValues(out, 990 + k);
      const label = `x [${xShape}] ${kernel}×${kernel} ${JSON.stringify(opts)} → ${out} ${format}, case ${k}`;
      const x = tensor(Float32Array.from(xv), xShape);
      const wt = tensor(Float32Array.from(wv), wShape);
      const shift = tensor(Float32Array.from(shiftV));
      const { y, statistics } = conv2dWithStatistics(x, wt, { ...opts, dataFormat: format, tuning }, shift);
      expectClose(await y.data(), conv2dForwardRef(xv, wv, null, g), TOL, `${label}: y`);
      assert.equal(statistics !== null, expected && format === 'NHWC', `${label}: statistics computed`);
      if (statistics) {
        assert.equal(statistics.shift, shift);
        if (tuning === sharedWeights && size > 0 && tuning.gemm.workgroup % size === 0) {
          const tiles = Math.ceil(conv2dOutputShape(g).slice(0, 3).reduce((a, b) => a * b, 1) / tuning.gemm.pixels);
          assert.equal(statistics.parts, Math.ceil(tiles / size), `${label}: one partial per subgroup`);
        }
        const partials = await statistics.partials.data();
        const got = new Float64Array(2 * out);
        for (let q = 0; q < 2; q++) for (let part = 0; part < statistics.parts; part++) for (let o = 0; o < out; o++) got[q * out + o]! += partials[(q * statistics.parts + part) * out + o]!;
        const yRef = conv2dForwardRef(xv, wv, null, g);
        const want = new Float64Array(2 * out);
        yRef.forEach((v, i) => { const o = i % out; const d = v - shiftV[o]!; want[o]! += d; want[out + o]! += d * d; });
        expectClose(got, want, { atol: 1e-3, rtol: 1e-4 }, `${label}: Σ(y − shift), Σ(y − shift)²`);
        statistics.partials.dispose();
      }
      for (const t of [x, wt, shift, y]) t.dispose();
    }
  });

  it('forward without bias matches the reference', async () => {
    const g = conv2dGeometry([2, 5, 5, 6], [7, 6, 3, 3], { padding: 'SAME', dataFormat: 'NHWC' });
    const xv = randomValues(2 * 5 * 5 * 6, 1);
    const wv = randomValues(7 * 6 * 9, 2);
    const got = await gpuValues(() => conv2d(tensor(Float32Array.from(xv), [2, 5, 5, 6]), tensor(Float32Array.from(wv), [7, 6, 3, 3]),
      { padding: 'SAME', dataFormat: 'NHWC', tuning: TEST_TUNING }));
    expectClose(got, conv2dForwardRef(xv, wv, null, g), TOL, 'conv2d NHWC without bias');
  });

  it('names the algorithm each pass runs (Winograd only for 3×3 stride 1; F(2×2) on small images)', () => {
    const sw = SOFTWARE_CONV_TUNING;
    const g3 = (size: number, stride = 1) => conv2dGeometry([32, size, size, 16], [64, 16, 3, 3], { padding: 'SAME', stride, dataFormat: 'NHWC' });
    assert.equal(conv2dAlgorithm(g3(16), 'forward', sw), 'winograd-gemm F(4×4,3×3)');
    assert.equal(conv2dAlgorithm(g3(16), 'backwardFilter', sw), 'winograd-gemm F(4×4,3×3)');
    assert.equal(conv2dAlgorithm(g3(4), 'backwardData', sw), 'winograd-gemm F(2×2,3×3) adjoint');
    assert.equal(conv2dAlgorithm(g3(16), 'backwardData', sw), 'winograd-gemm F(4×4,3×3) adjoint');
    assert.equal(conv2dAlgorithm(g3(16), 'backwardData', { ...sw, winogradGemm: { m: 4, m2Below: 8 } }), 'winograd-gemm F(4×4,3×3)');
    assert.equal(conv2dAlgorithm(g3(16, 2), 'forward', sw), 'implicit GEMM');
    const g1 = conv2dGeometry([32, 8, 8, 16], [64, 16, 1, 1], { dataFormat: 'NHWC' });
    assert.equal(conv2dAlgorithm(g1, 'forward', sw), 'implicit GEMM');
    assert.equal(conv2dAlgorithm(g1, 'backwardFilter', sw), 'filter GEMM');
    assert.equal(conv2dAlgorithm(g1, 'backwardFilter', HARDWARE_CONV_TUNING), 'filter partials');
    const conv1 = conv2dGeometry([32, 32, 32, 3], [96, 3, 2, 2], { padding: 'SAME', dataFormat: 'NHWC' });
    assert.equal(conv2dAlgorithm(conv1, 'backwardFilter', sw), 'filter patch');
    assert.equal(conv2dAlgorithm(g3(16), 'forward', HARDWARE_CONV_TUNING), 'winograd F(2×2,3×3)');
    assert.equal(conv2dAlgorithm(g3(16), 'backwardFilter', HARDWARE_CONV_TUNING), 'filter partials');
    const g3nchw = conv2dGeometry([32, 16, 16, 16], [64, 16, 3, 3], { padding: 'SAME', dataFormat: 'NCHW' });
    assert.equal(conv2dAlgorithm(g3nchw, 'backwardFilter', { ...sw, winogradGemm: null }), 'filter partials via NHWC');
  });

  it('both shipped tunings (software and hardware adapters) match the reference', async () => {
    // A 3×3 convolution, and a conv1-like one (3 → 96 channels, 2×2: the software tuning's 4 × 96
    // tile for short reductions, backward-data through GEMM + col2im).
    const shapes = [{ x: [3, 12, 9, 10], out: 20, k: 3 }, { x: [2, 3, 9, 10], out: 96, k: 2 }];
    for (const [tuningName, tu] of [['software', SOFTWARE_CONV_TUNING], ['hardware', HARDWARE_CONV_TUNING]] as const) for (const format of ['NCHW', 'NHWC'] as const) for (const [s, { x: [n, c, h, w], out, k }] of shapes.entries()) {
      const xShape = layoutShape(format, [n!, c!, h!, w!]);
      const wShape = [out, c!, k, k];
      const g = conv2dGeometry(xShape, wShape, { padding: 'SAME', dataFormat: format });
      const xv = randomValues(n! * c! * h! * w!, 21 + 10 * s);
      const wv = randomValues(out * c! * k * k, 22 + 10 * s);
      const bv = randomValues(out, 23 + 10 * s);
      const dyv = randomValues(n! * out * g.OH * g.OW, 24 + 10 * s);
      const tx = () => tensor(Float32Array.from(xv), xShape);
      const tw = () => tensor(Float32Array.from(wv), wShape);
      const tdy = () => tensor(Float32Array.from(dyv), conv2dOutputShape(g));
      const name = `${tuningName} tuning ${format} x [${xShape}] → ${out} ${k}×${k}`;
      expectClose(await gpuValues(() => conv2dForward(tx(), tw(), tensor(Float32Array.from(bv), [out]), g, tu)), conv2dForwardRef(xv, wv, bv, g), TOL, `${name} forward`);
      expectClose(await gpuValues(() => conv2dBackwardData(tdy(), tw(), g, tu)), conv2dBackwardDataRef(dyv, wv, g), TOL, `${name} dx`);
      expectClose(await gpuValues(() => conv2dBackwardFilter(tx(), tdy(), g, tu)), conv2dBackwardFilterRef(xv, dyv, g), TOL, `${name} dw`);
      expectClose(await gpuValues(() => conv2dBackwardFilter(tx(), tdy(), g, { ...tu, nchwFilterViaNHWC: !tu.nchwFilterViaNHWC })), conv2dBackwardFilterRef(xv, dyv, g), TOL, `${name} dw (other NCHW filter path)`);
    }
  });

  const gradCases: Array<{ x: number[]; w: number[]; opts: Conv2dOptions }> = [
    { x: [2, 2, 4, 4], w: [3, 2, 3, 3], opts: { padding: 'SAME' } },
    { x: [1, 5, 4, 3], w: [4, 3, 2, 2], opts: { padding: 'SAME', stride: 2, dataFormat: 'NHWC' } },
    { x: [2, 4, 3, 3], w: [5, 4, 1, 1], opts: { dataFormat: 'NCHW' } },
    { x: [1, 3, 3, 4], w: [4, 4, 1, 1], opts: { dataFormat: 'NHWC' } },
  ];
  for (const c of gradCases) {
    it(`gradients of x, w and bias match finite differences: x [${c.x}] w [${c.w}] ${JSON.stringify(c.opts)}`, async () => {
      const g = conv2dGeometry(c.x, c.w, c.opts);
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      await gradCheck({
        inputs: [
          { shape: c.x, values: randomValues(n(c.x), 5) },
          { shape: c.w, values: randomValues(n(c.w), 6) },
          { shape: [c.w[0]!], values: randomValues(c.w[0]!, 7) },
        ],
        gpu: ([x, w, b]) => conv2d(x!, w!, { ...c.opts, bias: b!, tuning: TEST_TUNING }),
        ref: ([x, w, b]) => conv2dForwardRef(x!, w!, b!, g),
        tol: { atol: 2e-3, rtol: 2e-3 },
        label: `conv2d x [${c.x}] w [${c.w}]`,
      });
    });
  }

  it('skips the backward-data GEMM when the input needs no gradient', async () => {
    const rt = getRuntime();
    const dispatchesOfBackward = async (xNeedsGrad: boolean): Promise<number> => {
      const x = tensor(Float32Array.from(randomValues(2 * 3 * 6 * 6, 8)), [2, 3, 6, 6]).requireGrad(xNeedsGrad);
      const w = tensor(Float32Array.from(randomValues(4 * 3 * 9, 9)), [4, 3, 3, 3]).requireGrad();
      const y = conv2d(x, w, { padding: 'SAME', tuning: TEST_TUNING });
      const dy = tensor(Float32Array.from(randomValues(y.size, 10)), y.shape);
      const before = rt.counters.dispatches;
      y.backward(dy);
      const count = rt.counters.dispatches - before;
      if (!w.grad || (x.grad !== null) !== xNeedsGrad) throw new Error('unexpected gradients');
      await w.grad.data();
      x.dispose(); w.dispose(); y.dispose(); dy.dispose();
      return count;
    };
    const withDx = await dispatchesOfBackward(true);
    const withoutDx = await dispatchesOfBackward(false);
    // backward-data is two dispatches: the weight reorder and the GEMM.
    if (withDx - withoutDx !== 2) throw new Error(`backward dispatches: ${withDx} with dx, ${withoutDx} without`);
  });

  it('Winograd-GEMM filter gradients reuse the forward\'s transformed input, with the reference\'s values', async () => {
    const rt = getRuntime();
    for (const format of ['NCHW', 'NHWC'] as const) for (const m of [2, 4] as const) {
      const tu: ConvTuning = { ...TEST_TUNING, winogradGemm: { m, m2Below: 0 } };
      const [N, C, H, W, O] = [2, 5, 7, 6, 8];
      const xShape = layoutShape(format, [N, C, H, W]);
      const g = conv2dGeometry(xShape, [O, C, 3, 3], { padding: 'SAME', dataFormat: format });
      const xv = randomValues(N * C * H * W, 30 + m);
      const wv = randomValues(O * C * 9, 31 + m);
      const dyv = randomValues(N * O * H * W, 32 + m);
      const backward = async (wNeedsGrad: boolean) => {
        const x = tensor(Float32Array.from(xv), xShape).requireGrad();
        const w = tensor(Float32Array.from(wv), [O, C, 3, 3]).requireGrad(wNeedsGrad);
        const y = conv2d(x, w, { padding: 'SAME', dataFormat: format, tuning: tu });
        const dy = tensor(Float32Array.from(dyv), y.shape);
        rt.beginTrace();
        y.backward(dy);
        const dw = w.grad ? await w.grad.data() : null;
        const transforms = (await rt.endTrace()).filter((s) => s.kernel === 'conv2d_winograd_input').length;
        x.dispose(); w.dispose(); y.dispose(); dy.dispose();
        return { dw, transforms };
      };
      const label = `${format} F(${m}×${m}, 3×3)`;
      const { dw, transforms } = await backward(true);
      expectClose(dw!, conv2dBackwardFilterRef(xv, dyv, g), TOL, `${label}: dw from the forward's V`);
      // backward-data transforms dy; with the filter gradient's own x transform it would be two.
      assert.equal(transforms, 1, `${label}: input transforms in the backward`);
      // Without a filter gradient nothing is kept (the forward disposes V).
      assert.equal((await backward(false)).transforms, 1, `${label}: input transforms in a backward without dw`);
    }
  });

  it('NCHW and NHWC agree after transposition (forward and gradients)', async () => {
    const [N, C, H, W, O] = [2, 6, 7, 5, 8];
    const xv = randomValues(N * C * H * W, 11);
    const wv = randomValues(O * C * 9, 12);
    const bv = randomValues(O, 13);
    const run = async (format: Conv2dDataFormat) => {
      const x = tensor(Float32Array.from(format === 'NCHW' ? xv : nchwToNhwc(xv, N, C, H, W)), layoutShape(format, [N, C, H, W])).requireGrad();
      const w = tensor(Float32Array.from(wv), [O, C, 3, 3]).requireGrad();
      const b = tensor(Float32Array.from(bv), [O]).requireGrad();
      const y = conv2d(x, w, { bias: b, stride: 2, padding: 'SAME', dataFormat: format, tuning: TEST_TUNING });
      const OH = format === 'NCHW' ? y.shape[2]! : y.shape[1]!;
      const OW = format === 'NCHW' ? y.shape[3]! : y.shape[2]!;
      const dyNchw = randomValues(N * O * OH * OW, 14);
      const dy = tensor(Float32Array.from(format === 'NCHW' ? dyNchw : nchwToNhwc(dyNchw, N, O, OH, OW)), y.shape);
      const yv = await y.data();
      y.backward(dy);
      const out = {
        y: format === 'NCHW' ? nchwToNhwc(yv, N, O, OH, OW) : Float64Array.from(yv),
        dx: format === 'NCHW' ? nchwToNhwc(await x.grad!.data(), N, C, H, W) : Float64Array.from(await x.grad!.data()),
        dw: await w.grad!.data(),
        db: await b.grad!.data(),
      };
      for (const t of [x, w, b, y, dy]) t.dispose();
      return out;
    };
    const a = await run('NCHW');
    const b = await run('NHWC');
    for (const k of ['y', 'dx', 'dw', 'db'] as const) expectClose(b[k], a[k], { atol: 1e-5, rtol: 1e-5 }, `NHWC vs NCHW ${k}`);
  });
});

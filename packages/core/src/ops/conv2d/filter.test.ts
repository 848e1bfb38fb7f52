import assert from 'node:assert/strict';
import { tensor } from '../creation/creation.js';
import { expectClose, gpuValues, randomValues } from '../../testing/check.js';
import { conv2dGeometry, conv2dOutputShape, type Conv2dShapeOptions } from './geometry.js';
import { conv2dBackwardFilter } from './passes.js';
import { conv2dBackwardFilterRef } from './reference.js';
import { CASES, checkPass, operands, takes, TEST_TILES, TEST_TUNING, TOL, tuned } from './testing/cases.js';

describe('conv2d filter and bias gradients', () => {
  for (const format of ['NCHW', 'NHWC'] as const) {
    it(`per-tap filter partials and the bias gradient match the reference over the shape matrix in ${format}`, async function () {
      this.timeout(300_000);
      for (const [k, c] of CASES.entries()) {
        const o = operands(c, format, k);
        await checkPass('backwardFilter', o, TEST_TUNING, 'filter partials');
        await checkPass('bias', o, TEST_TUNING, null);
      }
    });
  }

  it('NCHW filter gradients through NHWC transposes match the reference', async function () {
    this.timeout(300_000);
    const tu = tuned({ nchwFilterViaNhwc: true });
    let ran = 0;
    for (const [k, c] of CASES.entries()) {
      const o = operands(c, 'NCHW', k);
      if (!takes(o.g, 'backwardFilter', tu, 'filter partials via NHWC')) continue;
      await checkPass('backwardFilter', o, tu, 'filter partials via NHWC');
      ran++;
    }
    assert.ok(ran >= 3, `cases through NHWC: ${ran}`);
  });

  it('NHWC filter gradients with x rows shared across a subgroup match the reference', async function () {
    this.timeout(300_000);
    // 64 output channels in tiles of 8: 8 output tiles per (input tile, tap, chunk), a multiple of
    // lavapipe's subgroup size, so the shared-row path runs; 12 input channels leave a ragged tile.
    const tu = tuned({}, { backwardFilter: { ...TEST_TILES.backwardFilter, NHWC: { ...TEST_TILES.backwardFilter.NHWC, subgroupX: true } } });
    for (const [k, [x, kernel, padding]] of ([[[2, 16, 6, 5], 3, 'SAME'], [[3, 12, 4, 4], 1, 'VALID'], [[1, 8, 7, 7], 3, 'VALID']] as const).entries()) {
      const [n, c, h, w] = x;
      const g = conv2dGeometry([n, h, w, c], [64, c, kernel, kernel], { padding, dataFormat: 'NHWC' });
      const xv = randomValues(n * c * h * w, 500 + k);
      const dyv = randomValues(n * g.OH * g.OW * 64, 600 + k);
      const got = await gpuValues(() => conv2dBackwardFilter(tensor(Float32Array.from(xv), [n, h, w, c]), tensor(Float32Array.from(dyv), conv2dOutputShape(g)), g, tu));
      expectClose(got, conv2dBackwardFilterRef(xv, dyv, g), TOL, `dw x [${x}] ${kernel}×${kernel} ${padding} NHWC, shared x rows`);
    }
  });

  it('small-patch NHWC filter gradients (all of C·KH·KW per invocation) match the reference', async function () {
    this.timeout(300_000);
    // Output tiles of 8 (12 channels: a ragged last tile), chunks of 8 pixels (several per image).
    const tu = tuned({ filterPatch: true }, { filterPatch: { outChannels: 8, workgroup: 16, chunkPixels: 8 } });
    const patchCases: Array<[number[], number, [number, number], Conv2dShapeOptions]> = [
      [[2, 3, 9, 10], 12, [2, 2], { padding: 'SAME' }],
      [[1, 3, 6, 6], 4, [2, 2], { stride: 2, padding: 'SAME' }],
      [[1, 2, 7, 8], 8, [3, 2], { stride: [2, 1], padding: [[0, 2], [1, 0]] }],
      [[2, 1, 5, 5], 8, [4, 4], { padding: 'VALID' }],
    ];
    for (const [k, [[n, c, h, w], out, kernel, opts]] of patchCases.entries()) {
      const o = operands({ x: [n!, c!, h!, w!], out, k: kernel, opts }, 'NHWC', 700 + k);
      await checkPass('backwardFilter', o, tu, 'filter patch');
    }
    // NCHW through NHWC reaches it too.
    await checkPass('backwardFilter', operands({ x: [2, 4, 6, 5], out: 8, k: [2, 2], opts: { padding: 'SAME' } }, 'NCHW', 720), tuned({ filterPatch: true, nchwFilterViaNhwc: true }, tu.tiles), 'filter patch via NHWC');
  });

  it('1×1 filter gradients as the batched GEMM over pixel chunks match the reference (both formats, a ragged last chunk)', async function () {
    this.timeout(300_000);
    // Chunks of 32 pixels: 2·9·8 = 144 pixels are four full chunks and a ragged one of 16 (NHWC);
    // NCHW takes one image per chunk where an image has 32 pixels or more, else sums as many images
    // as fit into 32 pixels into each partial (the GEMM's sumItems): 4 and 3 images of 2×4 and 3×3
    // (one partial, two), 4 images of 2×2 into one partial that, in [O][C] order, is the gradient
    // itself. The 8 → 32 cases run the GEMM with its rows along the output channels (where the
    // lanes have subgroups to share), summed in output order. Last, single partials with O not a
    // multiple of 4, written as the gradient directly; 1×1 images (conv10's) in NCHW as in NHWC; and a
    // single partial whose rows run along C (32 → 8), which is summed into [O][C] order.
    const tu = tuned({ pointwiseFilterGemm: true });
    for (const [k, [n, c, h, w, out]] of ([[2, 6, 9, 8, 12], [3, 9, 8, 8, 20], [1, 4, 16, 4, 8], [2, 8, 9, 8, 32], [4, 8, 2, 4, 12], [6, 8, 3, 3, 16], [4, 8, 2, 2, 32], [2, 8, 2, 4, 10], [5, 12, 1, 1, 10], [2, 32, 2, 4, 8]] as const).entries()) {
      for (const format of ['NCHW', 'NHWC'] as const) {
        await checkPass('backwardFilter', operands({ x: [n, c, h, w], out, k: [1, 1], opts: {} }, format, 1100 + k), tu, 'filter GEMM');
      }
    }
  });

});

import assert from 'node:assert/strict';
import { gemmTileFor } from '@squeeze/kernels-wgsl';
import { tensor } from '../creation/creation.js';
import { expectClose, gpuValues, randomValues } from '../../testing/check.js';
import { conv2dGeometry, conv2dOutputShape } from './geometry.js';
import { conv2dBackwardData, conv2dForward } from './passes.js';
import { conv2dBackwardDataRef, conv2dForwardRef } from './reference.js';
import { CASES, checkPass, layoutShape, operands, takes, TEST_TILES, TEST_TUNING, TOL, tuned } from './testing/cases.js';

describe('conv2d implicit GEMM (forward and backward-data)', () => {
  // Channel loops of 1, 2 and 4 per step (with remainders: the cases have odd channel counts). Then
  // weight rows assembled with subgroupBroadcast (where the adapter has subgroups) and wider source
  // loads (NHWC, even channels: a step's two channels as one vec2; NCHW 1×1 with H·W a multiple of
  // the tile: a tile's pixels as vec4s); the same with 1×1 forwards reading w's columns as given
  // (no reorder); last, forwards with the source channels and kernel size compiled in.
  const variants = [
    { unroll: 1 }, { unroll: 2 }, { unroll: 4 }, { unroll: 2, shared: true }, { unroll: 2, shared: true, asGiven: true }, { unroll: 2, fixed: true },
  ] as const;
  // Unroll 1 and 4 change only the channel loop, so they take the cases that reach it differently
  // (3, 4, 5 and 12 channels: for unroll 4 all remainder, none, one, several steps; 3×3 taps with
  // stride 1 and 2; 1×1 pointwise, strided and padded): each other case would compile one more pipeline per store and tile flag, the same
  // store and tile code unroll 2 checks on every case.
  const UNROLL_CASES = new Set([0, 6, 9, 12, 13]);
  for (const format of ['NCHW', 'NHWC'] as const) {
    it(`matches the reference over the shape matrix in ${format}, every tile variant`, async function () {
      // ~20 cases × 6 variants × 2 passes, each variant's pipelines compiled once.
      this.timeout(600_000);
      for (const [k, c] of CASES.entries()) {
        const o = operands(c, format, k);
        for (const v of variants) {
          const pointwise = c.k[0] === 1 && c.k[1] === 1;
          if ('asGiven' in v && !pointwise) continue;
          if ('fixed' in v && c.x[1] * c.k[0] * c.k[1] > 16) continue;
          if (v.unroll !== 2 && !UNROLL_CASES.has(k)) continue;
          const shared = 'shared' in v;
          const tu = tuned({}, {
            gemm: {
              ...TEST_TILES.gemm, unroll: { NCHW: v.unroll, NHWC: v.unroll }, subgroupWeights: shared, pairLoads: shared,
              weightsAsGiven: 'asGiven' in v, ...('fixed' in v ? { fixedSourceMaxReduction: { NCHW: 16, NHWC: 16 } } : {}),
            },
          });
          const what = JSON.stringify(v);
          await checkPass('forward', o, tu, 'implicit GEMM', what);
          if (!('fixed' in v)) await checkPass('backwardData', o, tu, 'implicit GEMM', what);
        }
      }
    });
  }

  it('runs backward-data of few input channels as GEMM + col2im, matching the reference', async function () {
    this.timeout(300_000);
    const tu = tuned({ colsDataBelowChannels: 4 });
    let ran = 0;
    for (const format of ['NCHW', 'NHWC'] as const) for (const [k, c] of CASES.entries()) {
      const o = operands(c, format, k);
      if (!takes(o.g, 'backwardData', tu, 'GEMM + col2im')) {
        assert.ok(c.x[1] >= 4 || (c.k[0] === 1 && c.k[1] === 1), `${o.label}: col2im is for convolutions with fewer than 4 input channels`);
        continue;
      }
      await checkPass('backwardData', o, tu, 'GEMM + col2im');
      ran++;
    }
    assert.ok(ran >= 8, `col2im cases run: ${ran}`);
  });

  it('picks the wide GEMM tile by destination channels', () => {
    const base = TEST_TILES.gemm;
    const wide = { ...base, wide: [{ minChannels: 12, pixels: 4, channels: 16 }, { minChannels: 24, pixels: 4, channels: 24 }] };
    const chosen = (t: ReturnType<typeof gemmTileFor>) => `${t.pixels}x${t.channels}`;
    // the entry that pads least, the first of equals (40 and 48 channels: 48 either way)
    assert.deepEqual([11, 12, 24, 40, 48, 72].map((cd) => chosen(gemmTileFor(wide, cd))), ['8x8', '4x16', '4x24', '4x16', '4x16', '4x24']);
    assert.equal(gemmTileFor(base, 64), base, 'a tile without wide entries stays as it is');
    // an entry limited to short reductions (listed first: it wins ties) only where the reduction is that short
    const shortK = { ...wide, wide: [{ minChannels: 16, maxReduction: 12, pixels: 4, channels: 32 }, ...wide.wide] };
    assert.deepEqual([32, 12, 13].map((k) => chosen(gemmTileFor(shortK, 32, k))), ['4x16', '4x32', '4x16']);
    // too few pixels to fill a workgroup with tiles (16 lanes): 4 pixels a tile
    assert.deepEqual([8 * 16, 8 * 15, 4].map((px) => chosen(gemmTileFor(base, 8, Infinity, px))), ['8x8', '4x8', '4x8']);
  });

  it('the wide tiles match the reference', async function () {
    this.timeout(300_000);
    const wide = tuned({}, { gemm: { ...TEST_TILES.gemm, unroll: { NCHW: 2, NHWC: 2 }, subgroupWeights: true, pairLoads: true, weightsAsGiven: true, wide: [{ minChannels: 12, pixels: 4, channels: 16 }, { minChannels: 24, pixels: 4, channels: 24 }] } });
    // 20 → 14 channels: forward (14 destination channels, one ragged wide tile) and dx (20: two, the
    // second ragged) take the wide tile; 6 → 9: both stay on the base tile; 14 → 20: both wide;
    // 24 → 24: the 24-channel tile both ways.
    for (const [k, [n, c, h, w, out, kernel]] of ([[2, 20, 6, 5, 14, 3], [3, 6, 5, 4, 9, 1], [2, 14, 4, 4, 20, 1], [2, 24, 4, 3, 24, 1]] as const).entries()) {
      for (const format of ['NCHW', 'NHWC'] as const) {
        const xShape = layoutShape(format, [n, c, h, w]);
        const wShape = [out, c, kernel, kernel];
        const g = conv2dGeometry(xShape, wShape, { padding: 'SAME', dataFormat: format });
        const xv = randomValues(n * c * h * w, 700 + k);
        const wv = randomValues(out * c * kernel * kernel, 800 + k);
        const dyv = randomValues(conv2dOutputShape(g).reduce((a, b) => a * b, 1), 900 + k);
        const what = `x [${n},${c},${h},${w}] → ${out} ${kernel}×${kernel} ${format}, wide tiles`;
        expectClose(await gpuValues(() => conv2dForward(tensor(Float32Array.from(xv), xShape), tensor(Float32Array.from(wv), wShape), null, g, wide)),
          conv2dForwardRef(xv, wv, null, g), TOL, `${what}: forward`);
        expectClose(await gpuValues(() => conv2dBackwardData(tensor(Float32Array.from(dyv), conv2dOutputShape(g)), tensor(Float32Array.from(wv), wShape), g, wide)),
          conv2dBackwardDataRef(dyv, wv, g), TOL, `${what}: dx`);
      }
    }
  });

  it('uses no other algorithm when all are off', () => {
    for (const [k, c] of CASES.entries()) {
      const o = operands(c, 'NHWC', k);
      assert.ok(takes(o.g, 'forward', TEST_TUNING, 'implicit GEMM') && takes(o.g, 'backwardData', TEST_TUNING, 'implicit GEMM'), o.label);
    }
  });
});

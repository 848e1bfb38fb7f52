import assert from 'node:assert/strict';
import { tensor } from '../creation/creation.js';
import { expectClose, randomValues } from '../../testing/check.js';
import { getRuntime } from '../../runtime/global.js';
import { tidy } from '../../memory.js';
import { conv2d } from './conv2d.js';
import { conv2dGeometry } from './geometry.js';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dForwardWith, conv2dTransformedDy } from './passes.js';
import { conv2dBackwardFilterRef } from './reference.js';
import { checkPass, layoutShape, operands, TOL, tuned, WINOGRAD_CASES, WINOGRAD_TILES } from './testing/cases.js';

describe('conv2d Winograd', () => {
  it('the fused F(2×2, 3×3) kernel matches the reference (forward, dx; 4 and 8 channels per invocation)', async function () {
    // Twelve pipelines of up to ~20 s of LLVM each with an empty shader cache, on a loaded 2-core machine.
    this.timeout(600_000);
    for (const format of ['NCHW', 'NHWC'] as const) for (const [k, c] of WINOGRAD_CASES.entries()) {
      const o = operands(c, format, k);
      for (const winograd of WINOGRAD_TILES) {
        const tu = tuned({ winograd: true }, { winograd });
        const what = `${winograd.channels} channels, unroll ${winograd.unroll}`;
        await checkPass('forward', o, tu, 'winograd F(2×2,3×3)', what);
        await checkPass('backwardData', o, tu, 'winograd F(2×2,3×3)', what);
      }
    }
  });

  for (const m of [2, 4] as const) {
    it(`Winograd-GEMM F(${m}×${m}, 3×3) matches the reference in every pass (dx flipped and as the adjoint, shared transforms)`, async function () {
      this.timeout(300_000);
      const path = `winograd-gemm F(${m}×${m},3×3)`;
      const tWin = tuned({ winogradGemm: true }, { winogradGemm: { m, m2Below: 0 } });
      const tAdj = tuned({ winogradGemm: true, winogradAdjointData: true }, { winogradGemm: { m, m2Below: 0 } });
      for (const format of ['NCHW', 'NHWC'] as const) for (const [k, c] of WINOGRAD_CASES.entries()) {
        const o = operands(c, format, k);
        await checkPass('forward', o, tWin, path);
        await checkPass('backwardData', o, tWin, path, 'the flipped filter');
        await checkPass('backwardFilter', o, tWin, path);
        await checkPass('backwardData', o, tAdj, `${path} adjoint`);
        // dy's transform shared by both backward passes, and the forward's transformed filter.
        const shared = (pass: 'dx' | 'dw') => () => tidy(() => {
          const dy = o.dy();
          const z = conv2dTransformedDy(dy, o.g, tAdj);
          if (!z) throw new Error('the adjoint applies to this shape: a transformed dy is expected');
          return pass === 'dx' ? conv2dBackwardData(dy, o.w(), o.g, tAdj, z) : conv2dBackwardFilter(o.x(), dy, o.g, tAdj, undefined, z);
        });
        await checkPass('backwardData', o, tAdj, `${path} adjoint`, 'shared dy transform', shared('dx'));
        await checkPass('backwardFilter', o, tAdj, path, 'shared dy transform', shared('dw'));
        const withForwardU = () => tidy(() => {
          const w = o.w();
          const { transformedW } = conv2dForwardWith(o.x(), w, null, o.g, tAdj, { transformedW: true });
          if (!transformedW) throw new Error('the forward should return its transformed filter');
          return conv2dBackwardData(o.dy(), w, o.g, tAdj, undefined, transformedW);
        });
        await checkPass('backwardData', o, tAdj, `${path} adjoint`, "the forward's U", withForwardU);
      }
    });
  }

  it('filter gradients reuse the forward\'s transformed input, with the reference\'s values', async function () {
    this.timeout(300_000);
    const rt = getRuntime();
    for (const format of ['NCHW', 'NHWC'] as const) for (const m of [2, 4] as const) {
      const tu = tuned({ winogradGemm: true }, { winogradGemm: { m, m2Below: 0 } });
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
});

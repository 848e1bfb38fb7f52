import assert from 'node:assert/strict';
import { convTilesFor } from '@squeeze/kernels-wgsl';
import { conv2dGeometry, type Conv2dShapeOptions } from './geometry.js';
import { convTuningFor, describeConvPath, planConv, type ConvPass, type ConvTuning } from './plan.js';
import { tuned } from './testing/cases.js';

const SOFTWARE = convTuningFor({ software: true });
const HARDWARE = convTuningFor({ software: false });

/** NHWC geometry from x [N, C, H, W] and w [O, C, KH, KW]. */
const geo = (x: number[], w: number[], opts: Conv2dShapeOptions = {}) =>
  conv2dGeometry(opts.dataFormat === 'NCHW' ? x : [x[0]!, x[2]!, x[3]!, x[1]!], w, { dataFormat: 'NHWC', ...opts });
const name = (x: number[], w: number[], pass: ConvPass, t: ConvTuning, opts: Conv2dShapeOptions = {}) => describeConvPath(planConv(geo(x, w, opts), pass, t));

describe('conv2d planner', () => {
  it('names the path of every pass of SqueezeNet\'s layers on both adapters', () => {
    const g3 = (size: number, stride = 1) => [[32, 16, size, size], [64, 16, 3, 3], { padding: 'SAME', stride }] as const;
    const [x3, w3, o3] = g3(16);
    assert.equal(name([...x3], [...w3], 'forward', SOFTWARE, o3), 'winograd-gemm F(4×4,3×3)');
    assert.equal(name([...x3], [...w3], 'backwardFilter', SOFTWARE, o3), 'winograd-gemm F(4×4,3×3)');
    assert.equal(name([...x3], [...w3], 'backwardData', SOFTWARE, o3), 'winograd-gemm F(4×4,3×3) adjoint');
    const [x4, w4, o4] = g3(4);
    assert.equal(name([...x4], [...w4], 'backwardData', SOFTWARE, o4), 'winograd-gemm F(2×2,3×3) adjoint', 'small images take F(2×2)');
    const [xs, ws, os] = g3(16, 2);
    assert.equal(name([...xs], [...ws], 'forward', SOFTWARE, os), 'implicit GEMM', 'Winograd only for stride 1');
    assert.equal(name([32, 16, 8, 8], [64, 16, 1, 1], 'forward', SOFTWARE), 'implicit GEMM');
    assert.equal(name([32, 16, 8, 8], [64, 16, 1, 1], 'backwardFilter', SOFTWARE), 'filter GEMM');
    assert.equal(name([32, 16, 8, 8], [64, 16, 1, 1], 'backwardFilter', HARDWARE), 'filter partials');
    assert.equal(name([32, 3, 32, 32], [96, 3, 2, 2], 'backwardFilter', SOFTWARE, { padding: 'SAME' }), 'filter patch', 'conv1');
    assert.equal(name([32, 3, 32, 32], [96, 3, 2, 2], 'backwardData', SOFTWARE, { padding: 'SAME' }), 'GEMM + col2im', 'conv1');
    assert.equal(name([...x3], [...w3], 'forward', HARDWARE, o3), 'winograd F(2×2,3×3)');
    assert.equal(name([...x3], [...w3], 'backwardData', HARDWARE, o3), 'winograd F(2×2,3×3)');
    assert.equal(name([...x3], [...w3], 'backwardFilter', HARDWARE, o3), 'filter partials');
  });

  // One geometry and tuning per path the planner can choose: each algorithm switched on alone
  // (NHWC unless said), and what wins where several apply.
  const paths: Array<[string, number[], number[], Conv2dShapeOptions, ConvPass, ConvTuning]> = [
    ['implicit GEMM', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'forward', tuned({})],
    ['winograd F(2×2,3×3)', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'forward', tuned({ winograd: true })],
    ['winograd-gemm F(4×4,3×3)', [2, 8, 8, 8], [8, 8, 3, 3], { padding: 'SAME' }, 'forward', tuned({ winogradGemm: true, winograd: true }, { winogradGemm: { m: 4, m2Below: 8 } })],
    ['implicit GEMM', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'backwardData', tuned({})],
    ['winograd F(2×2,3×3)', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'backwardData', tuned({ winograd: true })],
    ['winograd-gemm F(2×2,3×3)', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'backwardData', tuned({ winogradGemm: true }, { winogradGemm: { m: 4, m2Below: 8 } })],
    ['winograd-gemm F(4×4,3×3) adjoint', [2, 8, 8, 8], [8, 8, 3, 3], { padding: 'SAME' }, 'backwardData', tuned({ winogradGemm: true, winogradAdjointData: true, colsDataBelowChannels: 16 }, { winogradGemm: { m: 4, m2Below: 8 } })],
    ['GEMM + col2im', [2, 3, 6, 6], [8, 3, 3, 3], { padding: 'SAME' }, 'backwardData', tuned({ colsDataBelowChannels: 4, winogradGemm: true }, { winogradGemm: { m: 4, m2Below: 8 } })],
    ['filter partials', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME' }, 'backwardFilter', tuned({})],
    ['filter patch', [2, 3, 6, 6], [8, 3, 2, 2], { padding: 'SAME' }, 'backwardFilter', tuned({ filterPatch: true, pointwiseFilterGemm: true })],
    ['filter GEMM', [2, 8, 6, 6], [8, 8, 1, 1], {}, 'backwardFilter', tuned({ pointwiseFilterGemm: true, filterPatch: true, nchwFilterViaNhwc: true })],
    ['filter partials via NHWC', [2, 8, 6, 6], [8, 8, 3, 3], { padding: 'SAME', dataFormat: 'NCHW' }, 'backwardFilter', tuned({ nchwFilterViaNhwc: true })],
    ['filter patch via NHWC', [2, 4, 6, 6], [8, 4, 2, 2], { padding: 'SAME', dataFormat: 'NCHW' }, 'backwardFilter', tuned({ nchwFilterViaNhwc: true, filterPatch: true })],
    ['winograd-gemm F(4×4,3×3)', [2, 8, 8, 8], [8, 8, 3, 3], { padding: 'SAME', dataFormat: 'NCHW' }, 'backwardFilter', tuned({ winogradGemm: true, nchwFilterViaNhwc: true }, { winogradGemm: { m: 4, m2Below: 8 } })],
  ];
  for (const [want, x, w, opts, pass, t] of paths) {
    it(`plans ${pass} of x [${x}] w [${w}] ${JSON.stringify(opts)} as ${want}`, () => assert.equal(name(x, w, pass, t, opts), want));
  }

  it('keeps each algorithm to the shapes it serves', () => {
    const all = tuned({ filterPatch: true, pointwiseFilterGemm: true, colsDataBelowChannels: 4, epilogueStatistics: true });
    // the small patch: not 1×1, C·KH·KW ≤ 16, NHWC, O % 4 == 0
    assert.equal(name([1, 3, 4, 4], [8, 3, 1, 1], 'backwardFilter', tuned({ filterPatch: true })), 'filter partials');
    assert.equal(name([1, 5, 4, 4], [8, 5, 2, 2], 'backwardFilter', all), 'filter partials');
    assert.equal(name([1, 3, 4, 4], [8, 3, 2, 2], 'backwardFilter', all, { dataFormat: 'NCHW' }), 'filter partials');
    assert.equal(name([1, 3, 4, 4], [6, 3, 2, 2], 'backwardFilter', all), 'filter partials');
    // the 1×1 filter GEMM: stride 1 and no padding, O % 4 == 0 unless one partial holds every pixel
    assert.equal(name([1, 8, 4, 4], [8, 8, 1, 1], 'backwardFilter', all, { stride: 2 }), 'filter partials');
    assert.equal(name([2, 8, 5, 8], [10, 8, 1, 1], 'backwardFilter', all), 'filter partials', '80 pixels: more than one partial');
    assert.equal(name([2, 8, 2, 4], [10, 8, 1, 1], 'backwardFilter', all), 'filter GEMM', '16 pixels: one partial');
    // col2im: fewer input channels than the bound, a kernel larger than 1×1
    assert.equal(name([2, 3, 6, 6], [8, 3, 1, 1], 'backwardData', all), 'implicit GEMM');
    assert.equal(name([2, 4, 6, 6], [8, 4, 2, 2], 'backwardData', all, { padding: 'SAME' }), 'implicit GEMM');
    // the forward's epilogue statistics: either layout, O % 4 == 0, not the fused Winograd kernel
    const stats = (x: number[], w: number[], t: ConvTuning, opts: Conv2dShapeOptions = {}) => {
      const p = planConv(geo(x, w, opts), 'forward', t);
      return p.algorithm !== 'winograd' && p.statistics;
    };
    assert.equal(stats([2, 4, 5, 5], [8, 4, 1, 1], all), true);
    assert.equal(stats([2, 4, 5, 5], [6, 4, 1, 1], all), false);
    assert.equal(stats([2, 4, 5, 5], [8, 4, 1, 1], all, { dataFormat: 'NCHW' }), true);
    assert.equal(stats([2, 4, 5, 5], [8, 4, 3, 3], all, { dataFormat: 'NCHW', padding: 'SAME' }), true);
    assert.equal(stats([2, 4, 5, 5], [8, 4, 1, 1], tuned({})), false);
    assert.equal(stats([2, 4, 5, 5], [8, 4, 3, 3], tuned({ epilogueStatistics: true, winograd: true }), { padding: 'SAME' }), false);
  });

  it('says which tiles are missing when a tuning turns Winograd-GEMM on without them', () => {
    const t: ConvTuning = { algorithms: { ...HARDWARE.algorithms, winogradGemm: true }, tiles: convTilesFor({ software: false }) };
    assert.throws(() => name([2, 8, 8, 8], [8, 8, 3, 3], 'forward', t, { padding: 'SAME' }), /winogradGemm/);
  });
});

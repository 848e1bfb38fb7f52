import { groupedConv2d, groupedConv2dGeometry, type GroupedConv2dOptions, type GroupedConv2dGeometry } from './grouped-conv.js';
import { tensor } from '../creation/creation.js';
import { conv2d } from '../conv2d/conv2d.js';
import { expectClose, gradCheck, gpuValues, randomValues } from '../../testing/check.js';

/** F.conv2d with groups and dilation in float64, in the geometry's layout (reads sizes from `g`, checked separately). */
function groupedConvRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, g: GroupedConv2dGeometry): Float64Array {
  const xi = (n: number, c: number, h: number, v: number) => (g.channelsLast ? ((n * g.H + h) * g.W + v) * g.C + c : ((n * g.C + c) * g.H + h) * g.W + v);
  const yi = (n: number, o: number, h: number, v: number) => (g.channelsLast ? ((n * g.OH + h) * g.OW + v) * g.O + o : ((n * g.O + o) * g.OH + h) * g.OW + v);
  const y = new Float64Array(g.N * g.O * g.OH * g.OW);
  for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) {
    const group = Math.floor(o / g.coutPG);
    for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
      let acc = b ? b[o]! : 0;
      for (let ci = 0; ci < g.cinPG; ci++) for (let ky = 0; ky < g.KH; ky++) for (let kx = 0; kx < g.KW; kx++) {
        const ih = oh * g.sh + ky * g.dh - g.padTop;
        const iw = ow * g.sw + kx * g.dw - g.padLeft;
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
        acc += x[xi(n, group * g.cinPG + ci, ih, iw)]! * w[((o * g.cinPG + ci) * g.KH + ky) * g.KW + kx]!;
      }
      y[yi(n, o, oh, ow)] = acc;
    }
  }
  return y;
}

/**
 * [N, C, H, W], O, [KH, KW], options: plain dilated, grouped, depthwise (with a channel multiplier),
 * strided SAME; depthwise with stride 1 runs the sliding-window kernels: symmetric, asymmetric and
 * over-wide padding (negative padding of the input gradient), the largest kernel, and more rows than
 * a workgroup's invocations (the filter gradient's row loop).
 */
const cases: Array<[number[], number, [number, number], Omit<GroupedConv2dOptions, 'dataFormat' | 'bias'>, string]> = [
  [[2, 3, 7, 6], 4, [3, 3], { dilation: 2, padding: 1 }, 'dilated'],
  [[2, 4, 6, 6], 6, [3, 2], { groups: 2, stride: [2, 1], padding: [[1, 0], [0, 1]] }, 'grouped'],
  [[2, 8, 7, 6], 8, [3, 3], { groups: 8, stride: 2, padding: 1 }, 'depthwise strided (vec4 in NHWC)'],
  [[2, 8, 5, 7], 8, [3, 3], { groups: 8, padding: 1 }, 'depthwise sliding'],
  [[2, 3, 6, 7], 3, [5, 3], { groups: 3, padding: [[2, 1], [0, 2]] }, 'depthwise sliding, asymmetric padding'],
  [[1, 2, 5, 4], 2, [1, 2], { groups: 2, padding: 2 }, 'depthwise sliding, padding wider than the kernel'],
  [[1, 2, 8, 9], 2, [7, 7], { groups: 2, padding: 'SAME' }, 'depthwise sliding 7×7'],
  [[3, 2, 30, 9], 2, [3, 3], { groups: 2, padding: 'VALID' }, 'depthwise sliding, 84 rows a channel'],
  [[1, 3, 6, 5], 6, [3, 3], { groups: 3, dilation: [2, 1], padding: 'SAME' }, 'depthwise ×2 multiplier, dilated SAME'],
  [[2, 6, 9, 8], 6, [5, 5], { groups: 6, stride: 2, dilation: 2, padding: 'SAME' }, 'depthwise strided dilated SAME'],
];

describe('groupedConv2d', () => {
  it('resolves PyTorch\'s output sizes with dilation', () => {
    // torch: out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1
    const g = groupedConv2dGeometry([1, 4, 11, 10], [4, 1, 3, 3], { groups: 4, dilation: [2, 3], stride: 2, padding: 1 }); // ⌊(11+2−4−1)/2⌋+1, ⌊(10+2−6−1)/2⌋+1
    if (g.OH !== 5 || g.OW !== 3) throw new Error(`${g.OH}×${g.OW}`);
    const s = groupedConv2dGeometry([1, 4, 11, 10], [4, 1, 3, 3], { groups: 4, dilation: 2, stride: 2, padding: 'SAME' });
    if (s.OH !== 6 || s.OW !== 5 || s.padTop !== 2) throw new Error(`SAME ${s.OH}×${s.OW} pad ${s.padTop}`);
  });

  for (const [nchw, O, [KH, KW], base, name] of cases) {
    for (const dataFormat of ['NCHW', 'NHWC'] as const) {
      it(`${name} ${dataFormat}: forward matches the float64 reference; gradients of x, w and bias match finite differences`, async () => {
        const [N, C, H, W] = nchw as [number, number, number, number];
        const xShape = dataFormat === 'NCHW' ? nchw : [N, H, W, C];
        const groups = base.groups ?? 1;
        const wShape = [O, C / groups, KH, KW];
        const opts = { ...base, dataFormat };
        const g = groupedConv2dGeometry(xShape, wShape, opts);
        const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
        const x = randomValues(size(xShape), N * C + H);
        const w = randomValues(size(wShape), O + KH);
        const b = randomValues(O, 7);
        const got = await gpuValues(() => groupedConv2d(tensor(Float32Array.from(x), xShape), tensor(Float32Array.from(w), wShape), { ...opts, bias: tensor(Float32Array.from(b), [O]) }));
        expectClose(got, groupedConvRef(x, w, b, g), { atol: 1e-5, rtol: 1e-5 }, `${name} ${dataFormat} forward`);
        await gradCheck({
          inputs: [{ shape: xShape, values: x }, { shape: wShape, values: w }, { shape: [O], values: b }],
          gpu: ([xt, wt, bt]) => groupedConv2d(xt!, wt!, { ...opts, bias: bt! }),
          ref: ([xv, wv, bv]) => groupedConvRef(xv!, wv!, bv!, g),
          tol: { atol: 3e-3, rtol: 3e-3 },
          label: `${name} ${dataFormat}`,
        });
      });
    }
  }

  it('conv2d takes groups and dilation (PyTorch\'s options) and gives the reference\'s values', async () => {
    const cases: Array<[number[], number[], GroupedConv2dOptions]> = [
      [[1, 4, 6, 5], [4, 1, 3, 3], { groups: 4, padding: 1 }],
      [[1, 5, 6, 6], [6, 3, 3, 3], { groups: 2, dilation: [1, 2], padding: 'SAME', dataFormat: 'NHWC' }],
    ];
    for (const [xShape, wShape, opts] of cases) {
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x = randomValues(size(xShape), 3);
      const w = randomValues(size(wShape), 5);
      const got = await gpuValues(() => conv2d(tensor(Float32Array.from(x), xShape), tensor(Float32Array.from(w), wShape), opts));
      expectClose(got, groupedConvRef(x, w, null, groupedConv2dGeometry(xShape, wShape, opts)), { atol: 1e-5, rtol: 1e-5 }, `conv2d ${JSON.stringify(opts)}`);
    }
  });

  it('rejects groups that do not divide the channels, or a filter of the wrong depth, naming the shapes', () => {
    const messages: string[] = [];
    for (const [x, w, groups] of [[[1, 6, 4, 4], [4, 2, 3, 3], 4], [[1, 6, 4, 4], [6, 2, 3, 3], 2]] as const) {
      try { groupedConv2dGeometry(x, w, { groups }); messages.push(''); } catch (e) { messages.push((e as Error).message); }
    }
    if (!messages[0]!.includes('groups 4') || !messages[1]!.includes('[6,2,3,3]') || !messages[1]!.includes('3 input channels')) throw new Error(`unexpected errors ${JSON.stringify(messages)}`);
  });
});

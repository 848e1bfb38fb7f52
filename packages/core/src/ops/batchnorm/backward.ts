import { bnBackwardKernel, bnReluMaxPoolBackwardKernel, BN_WG, BN_BACKWARD_CACHE } from '@squeeze/kernels-wgsl';
import type { Tensor } from '../../tensor.js';
import type { Pool2dGeometry } from '../pool/pool.js';
import { wideUniforms, type ChannelView, type WideView } from './channel.js';

// The one-dispatch training backward (kernels-wgsl batchnorm/bn-backward.ts): a workgroup per
// `cols` channels (channels-last: channel vectors).

/** Its workgroups, channel vectors per workgroup (channels-last) and vectors per lane. */
export interface OnePassGeometry { workgroups: number; cols: number; perLane: number }

/**
 * Channels-first workgroups take as many channels as leave each lane about BN_BACKWARD_CACHE vectors
 * (lavapipe pays per workgroup), but no fewer than 8 workgroups; channels-last ones up to 4 adjacent
 * channel vectors (a CPU adapter's 8-lane batch then reads whole cache lines), but no fewer than 4.
 */
export function onePassGeometry(v: ChannelView, rows = v.count): OnePassGeometry {
  const channels = v.layout === 'NCHW' || !v.vec ? v.c : v.c / 4;
  const vectors = v.layout === 'NCHW' ? v.count / (v.vec ? 4 : 1) : rows;
  const pow2 = (n: number) => 2 ** Math.max(0, Math.floor(Math.log2(n)));
  const cols = v.layout === 'NCHW'
    ? Math.min(BN_WG, pow2(BN_WG * BN_BACKWARD_CACHE / vectors), pow2(channels / 8))
    : Math.min(4, pow2(channels / 4));
  return { workgroups: Math.ceil(channels / cols), cols, perLane: Math.ceil(vectors / (BN_WG / cols)) };
}

/** The affine gradient outputs (channel.ts `affineGradOutputs`). */
interface AffineOutputs { flags: { weightGrad: boolean; biasGrad: boolean }; tensors: Tensor[] }

/** dx (and the affine gradients) of a training batch norm from g (laid out as `wide` says), x and the [4, C] table. */
export function onePassBackward(v: ChannelView, relu: boolean, g: Tensor, x: Tensor, params: Tensor, affine: AffineOutputs, dx: Tensor, wide: WideView): void {
  const geo = onePassGeometry(v);
  const sv = v.vec ? v.s / 4 : v.s;
  const shape: Record<string, number> = v.layout === 'NCHW'
    ? { perChannel: v.n * sv, sv, planeStride: v.c * sv, c: v.c, cols: geo.cols }
    : { rows: v.count, c: v.c, cv: v.vec ? v.c / 4 : v.c, cols: geo.cols };
  x.runtime.run(bnBackwardKernel, { layout: v.layout, vec: v.vec, relu, ...affine.flags, cached: geo.perLane <= BN_BACKWARD_CACHE },
    [g, x, params, ...affine.tensors, dx], { ...shape, ...wideUniforms(v, wide), channelSize: v.count }, [geo.workgroups, 1, 1]);
}

/** The same for batchNormReluMaxPool (fused-pool.ts): g pooled, the windows' maxima at `positions`. */
export function onePassPoolBackward(
  v: ChannelView, pg: Pool2dGeometry, g: Tensor, x: Tensor, positions: Tensor, params: Tensor, affine: AffineOutputs, dx: Tensor,
  wide: { wideRow: number; wideCol: number },
): void {
  const rows = pg.n * pg.oh * pg.ow;
  const geo = onePassGeometry(v, rows);
  x.runtime.run(bnReluMaxPoolBackwardKernel, affine.flags, [x, x, g, positions, params, ...affine.tensors, dx],
    { rows, cv: v.c / 4, cols: geo.cols, w: pg.w, ow: pg.ow, kh: pg.kh, kw: pg.kw, ...wide, channelSize: v.count }, [geo.workgroups, 1, 1]);
}

import type { ConvTiles } from '@squeeze/kernels-wgsl';
import type { Tensor } from '../../tensor.js';
import { noGrad } from '../../autograd.js';
import { permute } from '../shape-ops/shape-ops.js';
import type { Conv2dGeometry } from './geometry.js';
import { convTuningFor, dataAddsPending, describeConvPath, planBackwardData, planBackwardFilter, planForward, type ConvTuning, type DataPath, type FilterPath, type ForwardPath } from './plan.js';
import { onPath, type ForwardWants, type PassResult } from './common.js';
import { gemmCol2im, implicitGemm } from './implicit-gemm.js';
import { winogradFused, winogradGemmAdjointData, winogradGemmConv, winogradGemmFilterGrad, winogradTransformDy } from './winograd.js';
import { biasGrad, conv2dFilterPatch, filterPartials, pointwiseFilterGemm } from './filter.js';

// The three passes of a convolution, each running the path the planner chose (plan.ts).

/** The forward along `path`, and what `want` asks for where the path has it (else null). */
export function forwardOn(path: ForwardPath, x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tiles: ConvTiles, want: ForwardWants = {}): PassResult {
  return onPath(describeConvPath(path), () => {
    switch (path.algorithm) {
      case 'winogradGemm':
        return winogradGemmConv('forward', x, w, bias, g, tiles, path.m, {
          v: want.transformedX, u: want.transformedW, statisticsShift: path.statistics ? want.statisticsShift : null,
        });
      case 'winograd':
        return { dst: winogradFused('forward', x, w, bias, g, tiles), v: null, u: null, statistics: null };
      case 'implicitGemm':
        return implicitGemm('forward', x, w, bias, g, tiles, path.statistics ? want.statisticsShift ?? null : null);
    }
  });
}

/**
 * dx along `path`; `transformedDy` and `transformedW` only serve the Winograd-GEMM adjoint. `addend`
 * (a tensor shaped as x, freed here): added to dx in the kernel's epilogue, where dataAddsPending(path).
 */
export function backwardDataOn(
  path: DataPath, dy: Tensor, w: Tensor, g: Conv2dGeometry, tiles: ConvTiles, transformedDy?: Tensor, transformedW?: Tensor, addend: Tensor | null = null,
): Tensor {
  if ((transformedDy || transformedW) && path.algorithm !== 'winogradGemmAdjoint') throw new Error('conv2d: a transformed dy or w is only used by the Winograd-GEMM adjoint');
  if (addend && !dataAddsPending(path)) throw new Error(`conv2d: backward-data along ${describeConvPath(path)} takes no addend`);
  return onPath(describeConvPath(path), () => {
    switch (path.algorithm) {
      case 'winogradGemmAdjoint': return winogradGemmAdjointData(dy, w, g, tiles, path.m, transformedDy, transformedW);
      case 'gemmCol2im': return gemmCol2im(dy, w, g, tiles);
      case 'winogradGemm': return winogradGemmConv('backwardData', dy, w, null, g, tiles, path.m).dst;
      case 'winograd': return winogradFused('backwardData', dy, w, null, g, tiles);
      case 'implicitGemm': {
        const dx = implicitGemm('backwardData', dy, w, null, g, tiles, null, addend).dst;
        addend?.dispose();
        return dx;
      }
    }
  });
}

/** dw along `path`; `transformedX` and `transformedDy` only serve the Winograd-GEMM filter gradient. */
export function backwardFilterOn(path: FilterPath, x: Tensor, dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles, transformedX?: Tensor, transformedDy?: Tensor): Tensor {
  if ((transformedX || transformedDy) && path.algorithm !== 'winogradGemm') throw new Error('conv2d: a transformed input or dy is only used by Winograd-GEMM filter gradients');
  return onPath(describeConvPath(path), () => {
    switch (path.algorithm) {
      case 'winogradGemm': return winogradGemmFilterGrad(x, dy, g, tiles, path.m, transformedX, transformedDy);
      case 'filterPatch': return conv2dFilterPatch(x, { kind: 'tensor', dy }, g, tiles);
      case 'filterGemm': return pointwiseFilterGemm(x, dy, g, tiles);
      case 'filterPartials': return filterPartials(x, dy, g, tiles);
      case 'viaNhwc': return noGrad(() => {
        const toNhwc = [0, 2, 3, 1];
        const [xT, dyT] = [permute(x, toNhwc), permute(dy, toNhwc)];
        const dw = backwardFilterOn(path.then, xT, dyT, { ...g, dataFormat: 'NHWC' }, tiles);
        xT.dispose();
        dyT.dispose();
        return dw;
      });
    }
  });
}

/** dy's Winograd transform Z where both backward passes take it (the adjoint dx and the Winograd-GEMM dw), else null. */
export function sharedTransformedDy(data: DataPath, filter: FilterPath, dy: Tensor, g: Conv2dGeometry, tiles: ConvTiles): Tensor | null {
  if (data.algorithm !== 'winogradGemmAdjoint' || filter.algorithm !== 'winogradGemm') return null;
  return onPath(describeConvPath(data), () => winogradTransformDy(dy, g, tiles, data.m));
}

// The same passes planned on the spot, for the bench and tests.

export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning = convTuningFor(x.runtime.description)): Tensor {
  return forwardOn(planForward(g, tuning), x, w, bias, g, tuning.tiles).dst;
}

/**
 * The forward, and what `want` asks for where its path allows (else null): Winograd-GEMM's
 * transformed input V (for conv2dBackwardFilter's `transformedX`), its transformed filter U (for the
 * adjoint conv2dBackwardData's `transformedW`) and the batch-norm statistics of y. The caller owns
 * what it gets.
 */
export function conv2dForwardWith(
  x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dGeometry, tuning: ConvTuning, want: ForwardWants,
): { y: Tensor; transformedX: Tensor | null; transformedW: Tensor | null; statistics: PassResult['statistics'] } {
  const { dst, v, u, statistics } = forwardOn(planForward(g, tuning), x, w, bias, g, tuning.tiles, want);
  return { y: dst, transformedX: v, transformedW: u, statistics };
}

export function conv2dBackwardData(
  dy: Tensor, w: Tensor, g: Conv2dGeometry, tuning = convTuningFor(dy.runtime.description), transformedDy?: Tensor, transformedW?: Tensor,
): Tensor {
  return backwardDataOn(planBackwardData(g, tuning), dy, w, g, tuning.tiles, transformedDy, transformedW);
}

export function conv2dBackwardFilter(
  x: Tensor, dy: Tensor, g: Conv2dGeometry, tuning = convTuningFor(x.runtime.description), transformedX?: Tensor, transformedDy?: Tensor,
): Tensor {
  return backwardFilterOn(planBackwardFilter(g, tuning), x, dy, g, tuning.tiles, transformedX, transformedDy);
}

/** dy's Winograd transform where both backward passes take it (see sharedTransformedDy); the caller owns it. */
export function conv2dTransformedDy(dy: Tensor, g: Conv2dGeometry, tuning: ConvTuning): Tensor | null {
  return sharedTransformedDy(planBackwardData(g, tuning), planBackwardFilter(g, tuning), dy, g, tuning.tiles);
}

export function conv2dBiasGrad(dy: Tensor, g: Conv2dGeometry, tuning = convTuningFor(dy.runtime.description)): Tensor {
  return biasGrad(dy, g, tuning.tiles);
}

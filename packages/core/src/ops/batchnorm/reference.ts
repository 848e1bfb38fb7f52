import type { DataFormat } from '@squeeze/kernels-wgsl';
/** Plain float64 reference for batch normalisation (and its fused ReLU). */

export interface BatchNormRefOptions {
  weight?: Float64Array | null;
  bias?: Float64Array | null;
  runningMean: Float64Array;
  runningVar: Float64Array;
  training: boolean;
  momentum: number;
  eps: number;
  dataFormat: DataFormat;
  relu?: boolean;
}

export interface BatchNormRefResult {
  y: Float64Array;
  /** the running stats after the call (updated in training, unchanged in eval) */
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** Channel of each element: axis 1 for NCHW (and rank 2), the last axis for NHWC. */
export function channelIndex(shape: number[], dataFormat: DataFormat): { c: number; of: (i: number) => number } {
  if (dataFormat === 'NHWC' || shape.length === 2) {
    const c = shape[shape.length - 1]!;
    return { c, of: (i) => i % c };
  }
  const c = shape[1]!;
  const s = shape.slice(2).reduce((a, b) => a * b, 1);
  return { c, of: (i) => Math.floor(i / s) % c };
}

export function batchNormRef(x: Float64Array, shape: number[], o: BatchNormRefOptions): BatchNormRefResult {
  const { c, of } = channelIndex(shape, o.dataFormat);
  const count = x.length / c;
  let mean = o.runningMean;
  let variance = o.runningVar;
  let runningMean = Float64Array.from(o.runningMean);
  let runningVar = Float64Array.from(o.runningVar);
  if (o.training) {
    mean = new Float64Array(c);
    variance = new Float64Array(c);
    for (let i = 0; i < x.length; i++) mean[of(i)] += x[i]! / count;
    for (let i = 0; i < x.length; i++) variance[of(i)] += (x[i]! - mean[of(i)]!) ** 2 / count;
    runningMean = runningMean.map((r, ch) => (1 - o.momentum) * r + o.momentum * mean[ch]!);
    runningVar = runningVar.map((r, ch) => (1 - o.momentum) * r + o.momentum * variance[ch]! * count / (count - 1));
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = of(i);
    const v = ((x[i]! - mean[ch]!) / Math.sqrt(variance[ch]! + o.eps)) * (o.weight ? o.weight[ch]! : 1) + (o.bias ? o.bias[ch]! : 0);
    y[i] = o.relu ? Math.max(v, 0) : v;
  }
  return { y, runningMean, runningVar };
}

/**
 * float64 training backward of batchNorm(Relu): from the upstream gradient g (laid out as x) the
 * gradients of x, weight and bias, with g masked where the ReLU was inactive when `o.relu`.
 */
export function batchNormTrainingGradRef(x: Float64Array, g: Float64Array, shape: number[], o: BatchNormRefOptions): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const { c, of } = channelIndex(shape, o.dataFormat);
  const count = x.length / c;
  const y = batchNormRef(x, shape, { ...o, training: true }).y;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[of(i)] += x[i]! / count;
  for (let i = 0; i < x.length; i++) variance[of(i)] += (x[i]! - mean[of(i)]!) ** 2 / count;
  const invstd = variance.map((v) => 1 / Math.sqrt(v + o.eps));
  const gm = g.map((v, i) => (o.relu && !(y[i]! > 0) ? 0 : v));
  const xhat = x.map((v, i) => (v - mean[of(i)]!) * invstd[of(i)]!);
  const dbias = new Float64Array(c);
  const dweight = new Float64Array(c);
  for (let i = 0; i < x.length; i++) { dbias[of(i)] += gm[i]!; dweight[of(i)] += gm[i]! * xhat[i]!; }
  const dx = x.map((_, i) => {
    const ch = of(i);
    const scale = (o.weight ? o.weight[ch]! : 1) * invstd[ch]!;
    return scale * (gm[i]! - dbias[ch]! / count - xhat[i]! * dweight[ch]! / count);
  });
  return { dx, dweight, dbias };
}

import { batchNorm, batchNormRelu, type BatchNormOptions } from '../batchnorm.js';
import { batchNormRef, type BatchNormRefOptions } from '../reference.js';
import { tensor } from '../../creation/creation.js';
import { gradCheck, randomValues } from '../../../testing/check.js';
import type { Tensor } from '../../../tensor.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

// What the batch-norm tests share: shapes, random cases and a finite-difference check.
export const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
export const toLayout = (s: number[], f: DataFormat): number[] => (f === 'NCHW' || s.length === 2 ? s : [s[0]!, s[2]!, s[3]!, s[1]!]);
export const f32 = (v: Float64Array) => Float32Array.from(v);

/**
 * NCHW shapes (rank 2 = [N, C]): batch 1, 1×1 spatial, odd sizes, C not divisible by 4, vec4 in
 * one layout and scalar in the other, channels long enough for several partial sums that cross
 * image boundaries, and (the last) enough of them in NHWC that they are folded before the
 * per-channel pass (BN_FOLD).
 */
export const shapes: number[][] = [
  [1, 3, 5, 5], [4, 3, 1, 1], [3, 5, 7, 7], [2, 6, 4, 4], [2, 8, 3, 3], [4, 5, 12, 12], [4, 8, 12, 12], [5, 7], [16, 12], [70, 5],
  [3, 8, 64, 49],
];

export interface Case {
  x: Float64Array; weight: Float64Array | null; bias: Float64Array | null;
  runningMean: Float64Array; runningVar: Float64Array;
}

export function makeCase(c: number, n: number, seed: number, affine: { weight: boolean; bias: boolean }): Case {
  return {
    x: randomValues(n, seed, -2, 3),
    weight: affine.weight ? randomValues(c, seed + 1, 0.5, 1.5).map((v, i) => (i % 3 === 2 ? -v : v)) : null,
    bias: affine.bias ? randomValues(c, seed + 2, -1, 1) : null,
    runningMean: randomValues(c, seed + 3, -0.5, 0.5),
    runningVar: randomValues(c, seed + 4, 0.5, 2),
  };
}

export const affineCombos = [{ weight: true, bias: true }, { weight: false, bias: false }, { weight: true, bias: false }, { weight: false, bias: true }];

/** A case's x, weight and bias (all needing gradients) and running statistics as tensors. */
export function caseTensors(cs: Case, shape: number[]) {
  return {
    x: tensor(f32(cs.x), shape).requireGrad(), w: tensor(f32(cs.weight!)).requireGrad(), b: tensor(f32(cs.bias!)).requireGrad(),
    rm: tensor(f32(cs.runningMean)), rv: tensor(f32(cs.runningVar)),
  };
}

/** Runs the GPU op (no grad) and returns y and the running stats after the call. */
export async function runGpu(cs: Case, shape: number[], o: Omit<BatchNormOptions, 'runningMean' | 'runningVar' | 'weight' | 'bias'>, fused: boolean) {
  const x = tensor(f32(cs.x), shape);
  const rm = tensor(f32(cs.runningMean));
  const rv = tensor(f32(cs.runningVar));
  const w = cs.weight ? tensor(f32(cs.weight)) : null;
  const b = cs.bias ? tensor(f32(cs.bias)) : null;
  const y = (fused ? batchNormRelu : batchNorm)(x, { ...o, weight: w, bias: b, runningMean: rm, runningVar: rv });
  const out = { y: await y.data(), runningMean: await rm.data(), runningVar: await rv.data() };
  for (const t of [x, rm, rv, w, b, y]) t?.dispose();
  return out;
}

export function refOptions(cs: Case, o: { training: boolean; momentum: number; eps: number; dataFormat: DataFormat; relu?: boolean }): BatchNormRefOptions {
  return { ...o, weight: cs.weight, bias: cs.bias, runningMean: cs.runningMean, runningVar: cs.runningVar };
}

/** gradCheck of batchNorm(Relu) w.r.t. x, weight and bias (those in `grads`). */
export async function checkGradients(shape: number[], dataFormat: DataFormat, training: boolean, fused: boolean, seed: number, grads = { x: true, weight: true, bias: true }) {
  const c = dataFormat === 'NHWC' || shape.length === 2 ? shape[shape.length - 1]! : shape[1]!;
  const o = { training, momentum: 0.1, eps: 1e-5, dataFormat };
  const label = `${fused ? 'batchNormRelu' : 'batchNorm'} ${training ? 'training' : 'eval'} [${shape}] ${dataFormat}`;
  let cs = makeCase(c, size(shape), seed, { weight: true, bias: true });
  // With the ReLU, take the first seed from `seed` whose pre-activations all keep clear of the
  // kink, so the finite differences (step 1e-3) stay on one side of it.
  const kinkGap = (k: Case) => Math.min(...batchNormRef(k.x, shape, refOptions(k, o)).y.map(Math.abs));
  while (fused && kinkGap(cs) < 0.02) cs = makeCase(c, size(shape), ++seed, { weight: true, bias: true });
  const stats: Tensor[] = [];
  await gradCheck({
    inputs: [
      { shape, values: cs.x, grad: grads.x }, { shape: [c], values: cs.weight!, grad: grads.weight }, { shape: [c], values: cs.bias!, grad: grads.bias },
    ],
    gpu: ([x, w, b]) => {
      const rm = tensor(f32(cs.runningMean));
      const rv = tensor(f32(cs.runningVar));
      stats.push(rm, rv);
      return (fused ? batchNormRelu : batchNorm)(x!, { ...o, weight: w!, bias: b!, runningMean: rm, runningVar: rv });
    },
    ref: ([x, w, b]) => batchNormRef(x!, shape, { ...refOptions(cs, o), weight: w!, bias: b!, relu: fused }).y,
    tol: { atol: 3e-3, rtol: 3e-3 },
    label,
  });
  for (const t of stats) t.dispose();
}

import { noGrad, tensor, tidy } from '@squeeze/core';
import { imageShape, SqueezeNetCifar } from '../model/squeezenet.js';
import type { DataFormat } from '@squeeze/core';

/*
 * From model input to the printed prediction: the part of `squeeze predict` that does not read
 * files, shared with the web page so that both give the same logits for the same image.
 */

export interface Prediction { path: string; label: string; index: number; probabilities: number[]; logits: number[] }
export interface PredictFailure { path: string; error: string }

/**
 * The network of an export, ready for inference: its weights loaded (strictly: a missing, extra or
 * misshapen tensor throws) and in evaluation mode. `dataFormat` only selects the kernels' layout.
 */
export function exportedModel(weights: Record<string, { shape: number[]; data: Float32Array }>, classes: number, dataFormat: DataFormat): SqueezeNetCifar {
  const model = new SqueezeNetCifar({ dataFormat, seed: 0, numClasses: classes });
  try {
    model.loadStateDict(weights, { strict: true });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return model;
}

/** Logits of `model` (in evaluation mode) for images given as CHW float arrays (3×32×32 each, values in [0, 1]). */
export async function modelLogits(model: SqueezeNetCifar, images: Float32Array[]): Promise<number[][]> {
  const { dataFormat } = model;
  const n = images.length;
  const x = new Float32Array(n * 3 * 32 * 32);
  images.forEach((img, i) => {
    if (dataFormat === 'NCHW') x.set(img, i * 3072);
    else for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) x[i * 3072 + p * 3 + c] = img[c * 1024 + p]!;
  });
  const out = tidy(() => noGrad(() => model.forward(tensor(x, imageShape(dataFormat, n)))));
  const v = await out.data();
  out.dispose();
  const classes = v.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(v.subarray(i * classes, (i + 1) * classes)));
}

/** Why `logits` cannot give a label among `classes`, or null: NaN would make every class "win". */
export function logitsProblem(logits: readonly number[], classes: number): string | null {
  if (logits.length !== classes) return `${logits.length} scores for ${classes} labels`;
  const bad = logits.find((v) => !Number.isFinite(v));
  return bad === undefined ? null : `non-finite scores (${bad})`;
}

/** The prediction for one image's logits: the most likely label and every class's probability. */
export function prediction(path: string, logits: number[], labels: readonly string[]): Prediction {
  // A label is given only for logits that were computed.
  const problem = logitsProblem(logits, labels.length);
  if (problem) throw new Error(`${path}: the model computed ${problem}`);
  const index = logits.indexOf(Math.max(...logits));
  return { path, label: labels[index]!, index, probabilities: softmax(logits), logits };
}

export function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The sample's output line. */
export function predictionLine(p: Prediction): string { return `${p.path}: predicted ${p.label}`; }

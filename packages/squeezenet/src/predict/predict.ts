import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasRuntime, init } from '@squeeze/core';
import { decodeImageFile, DataError } from '../data/index.js';
import type { SqueezeNetCifar } from '../model/squeezenet.js';
import type { DataFormat } from '@squeeze/core';
import { exportedModel, logitsProblem, modelLogits, prediction, type Prediction, type PredictFailure } from './logits.js';
import { EXPORT_DIR, EXPORT_LABELS, ExportError, readExport, readLabels, type ExportFolder } from '../export/save.js';

export { exportedModel, logitsProblem, modelLogits, prediction, predictionLine, softmax, type Prediction, type PredictFailure } from './logits.js';

/** A loaded export ready to classify images (the library side of `squeeze predict`). */
export class Classifier {
  private constructor(readonly model: SqueezeNetCifar, readonly labels: string[], readonly dataFormat: DataFormat, readonly exported: ExportFolder) {}

  /** Loads `<modelDir>/models/` (weights + labels); `dataFormat` only selects the kernels' layout. */
  static async load(modelDir: string, opts: { dataFormat?: DataFormat; adapter?: string } = {}): Promise<Classifier> {
    const exported = readExport(modelDir);
    const labelsFile = path.join(modelDir, EXPORT_DIR, EXPORT_LABELS);
    const labels = readLabels(labelsFile);
    if (labels.length !== exported.meta.classes.length) {
      throw new ExportError(`${labelsFile}: ${labels.length} labels for a model of ${exported.meta.classes.length} classes; rerun 'squeeze save'`);
    }
    if (!hasRuntime()) await init({ adapter: opts.adapter });
    const dataFormat = opts.dataFormat ?? 'NCHW';
    let model: SqueezeNetCifar;
    try {
      model = exportedModel(exported.weights, exported.meta.classes.length, dataFormat);
    } catch (e) {
      throw new ExportError(`${path.join(modelDir, EXPORT_DIR)}: weights do not fit the model (${(e as Error).message})`);
    }
    return new Classifier(model, labels, dataFormat, exported);
  }

  /** Logits for images given as CHW float arrays (3×32×32 each, values in [0, 1]). */
  async logits(images: Float32Array[]): Promise<number[][]> {
    return modelLogits(this.model, images);
  }

  /** Classifies PNG files; unreadable ones are returned as failures, the rest still predicted. */
  async predictFiles(files: string[], batchSize = 32): Promise<{ predictions: Prediction[]; failures: PredictFailure[] }> {
    const predictions: Prediction[] = [];
    const failures: PredictFailure[] = [];
    for (let start = 0; start < files.length; start += batchSize) {
      const batch: Array<{ path: string; rgb: Float32Array }> = [];
      for (const f of files.slice(start, start + batchSize)) {
        try { batch.push({ path: f, rgb: decodeImageFile(f).rgb }); } catch (e) {
          if (!(e instanceof DataError)) throw e;
          failures.push({ path: f, error: e.message });
        }
      }
      if (batch.length === 0) continue;
      const logits = await this.logits(batch.map((b) => b.rgb));
      batch.forEach((b, i) => {
        const l = logits[i]!;
        const problem = logitsProblem(l, this.labels.length);
        if (problem) throw new ExportError(`${b.path}: the model in ${this.exported.dir} computed ${problem}; rerun 'squeeze save' from a good checkpoint`);
        predictions.push(prediction(b.path, l, this.labels));
      });
    }
    return { predictions, failures };
  }

  dispose(): void { this.model.dispose(); }
}

/** PATH itself when a file; every .png below it (recursively, sorted) when a folder. */
export function listImages(p: string): string[] {
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch { throw new DataError(`${p}: no such file or folder`); }
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.toLowerCase().endsWith('.png')) out.push(full);
    }
  };
  walk(p);
  if (out.length === 0) throw new DataError(`${p}: no .png files in this folder`);
  return out;
}

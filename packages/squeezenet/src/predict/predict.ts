import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasRuntime, init, noGrad, tensor, tidy } from '@squeeze/core';
import { decodeImageFile, DataError } from '../data/index.js';
import { SqueezeNetCifar, type DataFormat } from '../model/squeezenet.js';
import { EXPORT_DIR, EXPORT_LABELS, ExportError, readExport, readLabels, type LoadedExport } from '../export/save.js';

export interface Prediction { path: string; label: string; index: number; probabilities: number[]; logits: number[] }
export interface PredictFailure { path: string; error: string }

/** A loaded export ready to classify images (the library side of `squeeze predict`). */
export class Classifier {
  private constructor(readonly model: SqueezeNetCifar, readonly labels: string[], readonly dataFormat: DataFormat, readonly exported: LoadedExport) {}

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
    const model = new SqueezeNetCifar({ dataFormat, seed: 0, numClasses: exported.meta.classes.length });
    try {
      model.loadStateDict(exported.weights, { strict: true });
    } catch (e) {
      model.dispose();
      throw new ExportError(`${path.join(modelDir, EXPORT_DIR)}: weights do not fit the model (${(e as Error).message})`);
    }
    model.eval();
    return new Classifier(model, labels, dataFormat, exported);
  }

  /** Logits for images given as CHW float arrays (3×32×32 each, values in [0, 1]). */
  async logits(images: Float32Array[]): Promise<number[][]> {
    const n = images.length;
    const x = new Float32Array(n * 3 * 32 * 32);
    images.forEach((img, i) => {
      if (this.dataFormat === 'NCHW') x.set(img, i * 3072);
      else for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) x[i * 3072 + p * 3 + c] = img[c * 1024 + p]!;
    });
    const out = tidy(() => noGrad(() => this.model.forward(tensor(x, this.dataFormat === 'NCHW' ? [n, 3, 32, 32] : [n, 32, 32, 3]))));
    const v = await out.data();
    out.dispose();
    const classes = v.length / n;
    return Array.from({ length: n }, (_, i) => Array.from(v.subarray(i * classes, (i + 1) * classes)));
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
        // A label is printed only for logits that were computed: NaN would make every class "win".
        if (!l.every(Number.isFinite) || l.length !== this.labels.length) {
          throw new ExportError(`${b.path}: the model in ${this.exported.dir} computed ${l.length !== this.labels.length ? `${l.length} scores for ${this.labels.length} labels` : `non-finite scores (${l.find((v) => !Number.isFinite(v))})`}; rerun 'squeeze save' from a good checkpoint`);
        }
        const probabilities = softmax(l);
        const index = l.indexOf(Math.max(...l));
        predictions.push({ path: b.path, label: this.labels[index]!, index, probabilities, logits: l });
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

export function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The sample's output line. */
export function predictionLine(p: Prediction): string { return `${p.path}: predicted ${p.label}`; }

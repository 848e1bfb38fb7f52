import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOnnxModel, writeFileAtomicSync } from '../formats/index.js';
import { findLatestCheckpoint } from '../checkpoint/checkpoint.js';
import { ARCHITECTURE } from '../model/squeezenet.js';
import { squeezeNetOnnxGraph } from './onnx-graph.js';
import {
  EXPORT_DIR, EXPORT_LABELS, EXPORT_ONNX, EXPORT_WEIGHTS, ExportError, decodeExportWeights, encodeExportWeights, exportLabelsText, parseLabels,
  type ExportMetadata, type LoadedExport,
} from './weights.js';

export {
  EXPORT_DIR, EXPORT_LABELS, EXPORT_ONNX, EXPORT_WEIGHTS, ExportError, decodeExportWeights, encodeExportWeights, exportLabelsText,
  parseLabels, type ExportMetadata, type LoadedExport,
} from './weights.js';

export interface SaveResult { dir: string; weights: string; onnx: string; labels: string; step: number }

/**
 * Exports the newest checkpoint's model for inference into `<modelDir>/models/`: safetensors
 * weights with JSON metadata, an ONNX model and labels.txt. Each file is replaced atomically.
 */
export function saveModel(modelDir: string, warn: (m: string) => void = () => {}): SaveResult {
  const ckpt = findLatestCheckpoint(modelDir, warn);
  if (!ckpt) throw new ExportError(`${path.join(modelDir, 'checkpoints')}: no checkpoint found; train first with 'squeeze train --model_dir ${modelDir}'`);
  const meta: ExportMetadata = {
    architecture: ckpt.meta.architecture, dataFormat: ckpt.meta.dataFormat, classes: ckpt.meta.classes,
    step: ckpt.meta.globalStep, dataset: ckpt.meta.dataset,
  };
  if (meta.architecture !== ARCHITECTURE) throw new ExportError(`${ckpt.path}: architecture '${meta.architecture}' cannot be exported as ${ARCHITECTURE}`);
  const dir = path.join(modelDir, EXPORT_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const weights = path.join(dir, EXPORT_WEIGHTS);
  writeFileAtomicSync(weights, encodeExportWeights(ckpt.model, meta));
  const onnx = path.join(dir, EXPORT_ONNX);
  writeFileAtomicSync(onnx, buildOnnxModel(squeezeNetOnnxGraph(ckpt.model, meta.classes.length, {
    classes: JSON.stringify(meta.classes), step: String(meta.step), trained_data_format: meta.dataFormat,
  })));
  const labels = path.join(dir, EXPORT_LABELS);
  writeFileAtomicSync(labels, exportLabelsText(meta.classes));
  return { dir, weights, onnx, labels, step: meta.step };
}

/** Reads an export's weights and metadata; clear errors name the file. */
export function readExport(modelDir: string): LoadedExport {
  const file = path.join(modelDir, EXPORT_DIR, EXPORT_WEIGHTS);
  if (!fs.existsSync(file)) throw new ExportError(`${file}: no exported model; run 'squeeze save --model_dir ${modelDir}' first`);
  return decodeExportWeights(fs.readFileSync(file), file);
}

/** Parses labels.txt (`0:airplane` per line); errors name the file and the line. */
export function readLabels(file: string): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch {
    throw new ExportError(`${file}: labels file not found; run 'squeeze save' (or 'squeeze setup') again`);
  }
  return parseLabels(text, file);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOnnxModel, readSafetensors, writeFileAtomicSync, writeSafetensorsSync, FormatError } from '../formats/index.js';
import { findLatestCheckpoint } from '../checkpoint/checkpoint.js';
import { ARCHITECTURE } from '../model/squeezenet.js';
import { squeezeNetOnnxGraph } from './onnx-graph.js';

export const EXPORT_DIR = 'models';
export const EXPORT_WEIGHTS = 'squeezenet.safetensors';
export const EXPORT_ONNX = 'squeezenet.onnx';
export const EXPORT_LABELS = 'labels.txt';

export class ExportError extends Error { override name = 'ExportError'; }

export interface ExportMetadata {
  architecture: string;
  dataFormat: 'NCHW' | 'NHWC';
  classes: string[];
  step: number;
  dataset: string;
}

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
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(ckpt.model)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  const weights = path.join(dir, EXPORT_WEIGHTS);
  writeSafetensorsSync(weights, tensors, { squeeze: JSON.stringify(meta), format: 'pt' });
  const onnx = path.join(dir, EXPORT_ONNX);
  writeFileAtomicSync(onnx, buildOnnxModel(squeezeNetOnnxGraph(ckpt.model, meta.classes.length, {
    classes: JSON.stringify(meta.classes), step: String(meta.step), trained_data_format: meta.dataFormat,
  })));
  const labels = path.join(dir, EXPORT_LABELS);
  writeFileAtomicSync(labels, meta.classes.map((c, i) => `${i}:${c}`).join('\n') + '\n');
  return { dir, weights, onnx, labels, step: meta.step };
}

export interface LoadedExport { meta: ExportMetadata; weights: Record<string, { shape: number[]; data: Float32Array }> }

/** Reads an export's weights and metadata; clear errors name the file. */
export function readExport(modelDir: string): LoadedExport {
  const file = path.join(modelDir, EXPORT_DIR, EXPORT_WEIGHTS);
  if (!fs.existsSync(file)) throw new ExportError(`${file}: no exported model; run 'squeeze save --model_dir ${modelDir}' first`);
  let parsed;
  try { parsed = readSafetensors(file); } catch (e) {
    if (e instanceof FormatError) throw new ExportError(`${e.message}; rerun 'squeeze save'`);
    throw e;
  }
  let meta: ExportMetadata;
  try {
    meta = JSON.parse(parsed.metadata['squeeze'] ?? '') as ExportMetadata;
    const classes: unknown = meta.classes;
    if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) throw new Error('classes');
  } catch {
    throw new ExportError(`${file}: export metadata is missing or corrupt; rerun 'squeeze save'`);
  }
  const weights: LoadedExport['weights'] = {};
  for (const [k, t] of Object.entries(parsed.tensors)) weights[k] = { shape: t.shape, data: t.data as Float32Array };
  return { meta, weights };
}

/** Parses labels.txt (`0:airplane` per line); errors name the file and the line. */
export function readLabels(file: string): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch {
    throw new ExportError(`${file}: labels file not found; run 'squeeze save' (or 'squeeze setup') again`);
  }
  const labels: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^(\d+):(.+)$/.exec(line);
    if (!m || Number(m[1]) !== labels.length) throw new ExportError(`${file}:${i + 1}: expected '${labels.length}:<label>', got '${line.slice(0, 60)}'`);
    labels.push(m[2]!);
  });
  if (labels.length === 0) throw new ExportError(`${file}: no labels in the file`);
  return labels;
}

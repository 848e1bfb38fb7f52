import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOnnxModel, FormatError, readSafetensorsBytes, writeFileAtomicSync } from '../formats/index.js';
import { randomBytes } from 'node:crypto';
import { findLatestCheckpoint, findNonFinite } from '../checkpoint/checkpoint.js';
import { withLockSync } from '../reliability/lock.js';
import { shapeMismatch, squeezeNetStateShapes } from './shapes.js';
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
 * weights with JSON metadata, an ONNX model and labels.txt. Holds the model folder's lock. What is
 * written is first checked to be exactly what `predict` accepts (the model's tensors and shapes,
 * finite values, one class name per output, each fit for a line of labels.txt). The folder is
 * built under a temporary name and swapped in whole: a failure (a full disk) leaves the previous
 * export as it was.
 */
export function saveModel(modelDir: string, warn: (m: string) => void = () => {}): SaveResult {
  const noCheckpoint = (): ExportError => new ExportError(`${path.join(modelDir, 'checkpoints')}: no checkpoint found; train first with 'squeeze train --model_dir ${modelDir}'`);
  if (!fs.existsSync(modelDir)) throw noCheckpoint();
  return withLockSync(modelDir, 'model', { role: '--model_dir', info: warn }, () => {
    const ckpt = findLatestCheckpoint(modelDir, warn);
    if (!ckpt) throw noCheckpoint();
    const meta: ExportMetadata = {
      architecture: ckpt.meta.architecture, dataFormat: ckpt.meta.dataFormat, classes: ckpt.meta.classes,
      step: ckpt.meta.globalStep, dataset: ckpt.meta.dataset,
    };
    if (meta.architecture !== ARCHITECTURE) throw new ExportError(`${ckpt.path}: architecture '${meta.architecture}' cannot be exported as ${ARCHITECTURE}`);
    const fail = (problem: string): never => { throw new ExportError(`${ckpt.path}: cannot be exported: ${problem}; delete it or run 'squeeze clean'`); };
    const classProblem = classListProblem(meta.classes);
    if (classProblem) fail(classProblem);
    const mismatch = shapeMismatch(ckpt.model, squeezeNetStateShapes(meta.classes.length));
    if (mismatch) fail(`${mismatch} (for ${meta.classes.length} classes)`);
    const bad = findNonFinite([ckpt.model]);
    if (bad) fail(`tensor '${bad.name}' holds ${bad.value}`);
    const labelsText = exportLabelsText(meta.classes);
    const parsedBack = parseLabels(labelsText, EXPORT_LABELS);
    if (parsedBack.join('\n') !== meta.classes.join('\n')) fail('the class names do not read back from labels.txt');

    const onnxBytes = buildOnnxModel(squeezeNetOnnxGraph(ckpt.model, meta.classes.length, {
      classes: JSON.stringify(meta.classes), step: String(meta.step), trained_data_format: meta.dataFormat,
    }));
    const dir = path.join(modelDir, EXPORT_DIR);
    writeFolderAtomically(dir, (staging) => {
      writeFileAtomicSync(path.join(staging, EXPORT_WEIGHTS), encodeExportWeights(ckpt.model, meta));
      writeFileAtomicSync(path.join(staging, EXPORT_ONNX), onnxBytes);
      writeFileAtomicSync(path.join(staging, EXPORT_LABELS), labelsText);
    });
    return { dir, weights: path.join(dir, EXPORT_WEIGHTS), onnx: path.join(dir, EXPORT_ONNX), labels: path.join(dir, EXPORT_LABELS), step: meta.step };
  });
}

/** Why a class list cannot be written to labels.txt and read back, or null when it can. */
function classListProblem(classes: string[]): string | null {
  if (classes.length === 0) return 'the class list is empty';
  const i = classes.findIndex((c) => c.trim() === '' || /[\r\n]/.test(c));
  return i < 0 ? null : `class ${i} (${JSON.stringify(classes[i]!.slice(0, 40))}) is empty or holds a line break`;
}

/**
 * Fills a sibling temp folder with `write`, then swaps it in for `dir` (two renames; a crash
 * between them leaves `<dir>.old-*`, which the next call puts back). On failure the temp folder is
 * removed and `dir` is untouched; the error names the file that failed.
 */
function writeFolderAtomically(dir: string, write: (staging: string) => void): void {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  for (const f of fs.readdirSync(parent)) {
    if (f.startsWith(`${base}.tmp-`)) fs.rmSync(path.join(parent, f), { recursive: true, force: true });
    if (f.startsWith(`${base}.old-`)) {
      if (fs.existsSync(dir)) fs.rmSync(path.join(parent, f), { recursive: true, force: true });
      else fs.renameSync(path.join(parent, f), dir);
    }
  }
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = `${dir}.tmp-${suffix}`;
  try {
    fs.mkdirSync(staging);
    write(staging);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      const file = (e as NodeJS.ErrnoException).path ?? staging;
      const what = code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : (e as Error).message;
      throw new ExportError(`${file}: ${what} (${code}); ${fs.existsSync(dir) ? `the previous export in ${dir} is unchanged; ` : ''}free some space and rerun 'squeeze save'`, { cause: e });
    }
    throw e;
  }
  const old = `${dir}.old-${suffix}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(staging, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** An export read from its folder. */
export interface ExportFolder extends LoadedExport { dir: string }

/** Reads an export's weights and metadata; clear errors name the file. */
export function readExport(modelDir: string): ExportFolder {
  const file = path.join(modelDir, EXPORT_DIR, EXPORT_WEIGHTS);
  if (!fs.existsSync(file)) throw new ExportError(`${file}: no exported model; run 'squeeze save --model_dir ${modelDir}' first`);
  let bytes: Uint8Array;
  try { bytes = readSafetensorsBytes(file); } catch (e) {
    if (e instanceof FormatError) throw new ExportError(`${e.message}; rerun 'squeeze save'`);
    throw e;
  }
  return { dir: path.dirname(file), ...decodeExportWeights(bytes, file) };
}

/** Parses labels.txt (`0:airplane` per line); errors name the file and the line. */
export function readLabels(file: string): string[] {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_LABELS_BYTES) throw new ExportError(`${file}: not a labels file (${st.isFile() ? `${st.size} bytes` : 'not a regular file'}); rerun 'squeeze save'`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${file}: labels file not found; run 'squeeze save' (or 'squeeze setup') again`);
  }
  return parseLabels(text, file);
}

/** More than any class list needs (a million classes of 60 characters). */
const MAX_LABELS_BYTES = 64 << 20;

import { decodeSafetensors, encodeSafetensors } from '../formats/safetensors-bytes.js';
import { FormatError } from '../formats/errors.js';
import { findNonFinite } from '../checkpoint/finite.js';
import type { DataFormat } from '@squeeze/core';

/*
 * The exported model's files as bytes: what `squeeze save` writes and `squeeze predict` reads, and
 * what the web page downloads and loads. No files here, so the page shares this code.
 */
export const EXPORT_DIR = 'models';
export const EXPORT_WEIGHTS = 'squeezenet.safetensors';
export const EXPORT_ONNX = 'squeezenet.onnx';
export const EXPORT_LABELS = 'labels.txt';

export class ExportError extends Error { override name = 'ExportError'; }

export interface ExportMetadata {
  architecture: string;
  dataFormat: DataFormat;
  classes: string[];
  step: number;
  dataset: string;
}

export interface LoadedExport { meta: ExportMetadata; weights: Record<string, { shape: number[]; data: Float32Array }> }

/** The weights file: the model's tensors under their checkpoint names and `meta` as JSON metadata. */
export function encodeExportWeights(model: Record<string, { shape: number[]; data: Float32Array }>, meta: ExportMetadata): Uint8Array {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(model)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, { squeeze: JSON.stringify(meta), format: 'pt' });
}

/** Decodes a weights file's bytes; errors name `file`. */
export function decodeExportWeights(bytes: Uint8Array, file: string): LoadedExport {
  let parsed;
  try { parsed = decodeSafetensors(bytes, file); } catch (e) {
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
  for (const [k, t] of Object.entries(parsed.tensors)) {
    if (t.dtype !== 'F32') throw new ExportError(`${file}: tensor '${k}' has dtype ${t.dtype}, expected F32; rerun 'squeeze save'`);
    weights[k] = { shape: t.shape, data: t.data as Float32Array };
  }
  const bad = findNonFinite([weights]);
  if (bad) throw new ExportError(`${file}: tensor '${bad.name}' holds ${bad.value} (poisoned); rerun 'squeeze save' from a good checkpoint`);
  return { meta, weights };
}

/** labels.txt: `index:label` per line. */
export function exportLabelsText(classes: readonly string[]): string {
  return classes.map((c, i) => `${i}:${c}`).join('\n') + '\n';
}

/** Parses labels.txt (`0:airplane` per line); errors name the file and the line. */
export function parseLabels(text: string, file: string): string[] {
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

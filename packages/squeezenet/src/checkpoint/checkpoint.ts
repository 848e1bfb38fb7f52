import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensorsSync, writeFileAtomicSync, FormatError } from '../formats/index.js';
import { findNonFinite } from './finite.js';
import type { DataFormat } from '@squeeze/core';

export { findNonFinite } from './finite.js';

/**
 * Training checkpoints: one safetensors file per checkpoint (`checkpoints/model.ckpt-<step>.safetensors`)
 * holding the model's tensors under their PyTorch-style names, the optimizer state under
 * `optimizer.` and JSON metadata; an index (`checkpoints/checkpoint.json`) names the files kept.
 * Every file is written to a temp name, fsynced and renamed; the index is updated last, so a
 * crash at any moment leaves the previous checkpoint intact and nothing that looks complete but is not.
 */
export const CHECKPOINT_DIR = 'checkpoints';
export const CHECKPOINT_INDEX = 'checkpoint.json';
export const OPTIMIZER_PREFIX = 'optimizer.';
const FILE_PATTERN = /^model\.ckpt-(\d+)\.safetensors$/;
/** More steps than any run makes (a year at 30 steps a second): a larger step is a corrupt value. */
const MAX_PLAUSIBLE_STEP = 1e9 - 1;

export class CheckpointError extends Error { override name = 'CheckpointError'; }

export interface CheckpointMeta {
  architecture: string;
  /** training steps completed; training resumes at this step. */
  globalStep: number;
  dataFormat: DataFormat;
  seed: number;
  dataOrder: { seed: number; epoch: number; position: number };
  dataset: string;
  /** The training split's image count and content fingerprint (see LoadedDataset); absent in older checkpoints. */
  datasetFingerprint?: string;
  trainCount?: number;
  classes: string[];
  optimizer: { name: string; step: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface Checkpoint {
  path: string;
  meta: CheckpointMeta;
  /** model tensors by name */
  model: Record<string, { shape: number[]; data: Float32Array }>;
  /** optimizer state tensors by name (without the prefix) */
  optimizer: Record<string, { shape: number[]; data: Float32Array }>;
}

export function checkpointFileName(step: number): string {
  return `model.ckpt-${String(step).padStart(6, '0')}.safetensors`;
}

/** The index: the newest file and the files kept. It is rebuilt from the files on every write, never trusted to prune. */
interface Index { latest: string; kept: string[] }

/** The step of a checkpoint file name, or null for any other name. */
export function checkpointStep(fileName: string): number | null {
  const m = FILE_PATTERN.exec(fileName);
  return m ? Number(m[1]) : null;
}

/**
 * Writes a checkpoint atomically, updates the index, then prunes beyond the newest `keep`. What is
 * kept is decided from the checkpoint files on disk (by step), not from the index, so a damaged or
 * hand-edited checkpoint.json can never make a write delete good checkpoints. Files with a later
 * step than this one are those resuming skipped as unreadable; they go too. Refuses non-finite values.
 */
export function writeCheckpoint(modelDir: string, c: Omit<Checkpoint, 'path'>, keep: number): string {
  const dir = path.join(modelDir, CHECKPOINT_DIR);
  const file = checkpointFileName(c.meta.globalStep);
  const bad = findNonFinite([c.model, c.optimizer]);
  if (bad) throw new CheckpointError(`${path.join(dir, file)}: not written: tensor '${bad.name}' holds ${bad.value} at index ${bad.index}`);
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(c.model)) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  for (const [name, t] of Object.entries(c.optimizer)) tensors[OPTIMIZER_PREFIX + name] = { dtype: 'F32', shape: t.shape, data: t.data };
  writeSafetensorsSync(path.join(dir, file), tensors, { squeeze: JSON.stringify(c.meta) });
  const step = c.meta.globalStep;
  const onDisk = fs.readdirSync(dir).filter((f) => { const s = checkpointStep(f); return s !== null && s <= step; })
    .sort((a, b) => checkpointStep(a)! - checkpointStep(b)!);
  const kept = onDisk.slice(-Math.max(1, keep));
  writeFileAtomicSync(path.join(dir, CHECKPOINT_INDEX), JSON.stringify({ latest: file, kept } satisfies Index, null, 2) + '\n');
  // Only now that the index no longer names them may old files go.
  for (const f of fs.readdirSync(dir)) {
    if (checkpointStep(f) !== null && !kept.includes(f)) fs.rmSync(path.join(dir, f), { force: true });
    else if (f.includes('.tmp-')) fs.rmSync(path.join(dir, f), { force: true }); // debris of a killed write
  }
  return path.join(dir, file);
}

/** Reads and validates one checkpoint file; errors name the file. */
export function readCheckpoint(file: string): Checkpoint {
  let parsed;
  try {
    parsed = readSafetensors(file);
  } catch (e) {
    if (e instanceof FormatError) throw new CheckpointError(`${file}: not a valid checkpoint (${e.message.replace(`${file}: `, '')}); delete it or run 'squeeze clean'`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CheckpointError(`${file}: checkpoint file not found`);
    // Node's messages for EISDIR, EACCES, … do not always name the file.
    if (typeof (e as NodeJS.ErrnoException).code === 'string') throw new CheckpointError(`${file}: cannot be read (${(e as Error).message})`);
    throw e;
  }
  const metaText = parsed.metadata['squeeze'];
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metaText ?? '') as CheckpointMeta;
    if (!isUsableMeta(meta)) throw new Error('fields');
  } catch {
    throw new CheckpointError(`${file}: checkpoint metadata is missing or corrupt; delete it or run 'squeeze clean'`);
  }
  // Every step runs one optimizer update, so the two counts agree in any checkpoint training wrote.
  const named = checkpointStep(path.basename(file));
  if (meta.optimizer.step !== meta.globalStep || meta.globalStep > MAX_PLAUSIBLE_STEP || (named !== null && named !== meta.globalStep)) {
    throw new CheckpointError(`${file}: checkpoint metadata is corrupt (step ${meta.globalStep}, optimizer step ${meta.optimizer.step}); delete it or run 'squeeze clean'`);
  }
  const model: Checkpoint['model'] = {};
  const optimizer: Checkpoint['optimizer'] = {};
  for (const [name, t] of Object.entries(parsed.tensors)) {
    if (t.dtype !== 'F32') throw new CheckpointError(`${file}: tensor '${name}' has dtype ${t.dtype}, expected F32`);
    const entry = { shape: t.shape, data: t.data as Float32Array };
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizer[name.slice(OPTIMIZER_PREFIX.length)] = entry;
    else model[name] = entry;
  }
  const bad = findNonFinite([model, optimizer]);
  if (bad) {
    const tensor = model[bad.name] ? bad.name : OPTIMIZER_PREFIX + bad.name;
    throw new CheckpointError(`${file}: tensor '${tensor}' holds ${bad.value} at index ${bad.index} (poisoned); delete it or run 'squeeze clean'`);
  }
  return { path: file, meta, model, optimizer };
}

/** True when every metadata field that resuming and exporting read is present with its type. */
function isUsableMeta(meta: unknown): meta is CheckpointMeta {
  const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (!isObject(meta)) return false;
  const { dataOrder, optimizer, classes } = meta;
  return isCount(meta['globalStep']) && typeof meta['architecture'] === 'string' &&
    (meta['dataFormat'] === 'NCHW' || meta['dataFormat'] === 'NHWC') && typeof meta['dataset'] === 'string' &&
    Array.isArray(classes) && classes.every((c) => typeof c === 'string') &&
    isObject(dataOrder) && Number.isSafeInteger(dataOrder['seed']) && isCount(dataOrder['epoch']) && isCount(dataOrder['position']) &&
    isObject(optimizer) && isCount(optimizer['step']);
}

/**
 * The newest checkpoint that reads back completely: the index's latest first, then every file
 * by descending step (a crash between a file's rename and the index update leaves a newer,
 * complete file the index does not name yet). Corrupt ones are skipped with a warning. When
 * checkpoint files exist but none reads back, the newest one's CheckpointError is thrown: starting
 * over would silently discard the run (and prune the damaged files).
 */
export function findLatestCheckpoint(modelDir: string, warn: (msg: string) => void = () => {}): Checkpoint | null {
  const dir = path.join(modelDir, CHECKPOINT_DIR);
  if (!fs.existsSync(dir)) return null;
  const files = fs.readdirSync(dir).filter((f) => checkpointStep(f) !== null)
    .sort((a, b) => checkpointStep(b)! - checkpointStep(a)!);
  const skipped: CheckpointError[] = [];
  for (const f of files) {
    try {
      const checkpoint = readCheckpoint(path.join(dir, f));
      for (const e of skipped) warn(`skipping ${e.message}`);
      return checkpoint;
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      skipped.push(e);
    }
  }
  if (skipped.length > 0) throw skipped[0]!;
  return null;
}

/** Checks a checkpoint's tensors against the model's expected names and shapes. */
export function checkCompatible(c: Checkpoint, expected: Record<string, readonly number[]>, architecture: string): void {
  if (c.meta.architecture !== architecture) {
    throw new CheckpointError(`${c.path}: checkpoint is for architecture '${c.meta.architecture}', not '${architecture}'; use another --model_dir or run 'squeeze clean'`);
  }
  for (const [name, shape] of Object.entries(expected)) {
    const t = c.model[name];
    if (!t) throw new CheckpointError(`${c.path}: tensor '${name}' is missing; the checkpoint does not match this model`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${c.path}: tensor '${name}' has shape [${t.shape}], the model needs [${shape}]`);
    }
  }
}

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Tensor } from '../tensor.js';
import { Module, type AnyModule } from '../nn/module.js';
import { loadSafetensors, saveSafetensors, type LoadedTensor } from './safetensors.js';

/**
 * Files for Node (PyTorch's `torch.save(model.state_dict())` / `torch.load`, as safetensors).
 * Kept out of the browser entry: it imports node:fs.
 */

/**
 * Writes the state dict of `module` (or a state dict) to `path` as safetensors, through a temporary
 * file renamed over `path`, so a crash never leaves a truncated file.
 */
export async function save(path: string, module: AnyModule | Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const state = module instanceof Module ? module.stateDict() : module;
  const bytes = await saveSafetensors(state, metadata);
  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** Reads a safetensors file into a state dict for `module.loadStateDict` (errors name the path). */
export async function load(path: string): Promise<Record<string, LoadedTensor>> {
  return loadSafetensors(await readFile(path), path);
}

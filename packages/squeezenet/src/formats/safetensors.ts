import * as fs from 'node:fs';

import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors-bytes.js';

export {
  decodeSafetensors, encodeSafetensors, type SafetensorsData, type SafetensorsDType, type SafetensorsFile, type SafetensorsTensor,
} from './safetensors-bytes.js';

/** Atomically writes a safetensors file (see encodeSafetensors). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Synchronous variant of writeSafetensors. */
export function writeSafetensorsSync(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads and strictly validates a safetensors file or buffer. Any structural
 * problem throws FormatError naming `label` (the path, or "<bytes>").
 * I/O errors such as ENOENT propagate unchanged.
 */
export function readSafetensors(pathOrBytes: string | Uint8Array, label?: string): SafetensorsFile {
  const file = label ?? (typeof pathOrBytes === 'string' ? pathOrBytes : '<bytes>');
  return decodeSafetensors(typeof pathOrBytes === 'string' ? fs.readFileSync(pathOrBytes) : pathOrBytes, file);
}

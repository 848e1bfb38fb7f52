import * as fs from 'node:fs';

import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { FormatError } from './errors.js';
import { decodeSafetensors, encodeSafetensors, SAFETENSORS_MAX_HEADER_BYTES, type SafetensorsFile, type SafetensorsTensor } from './safetensors-bytes.js';

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
 * Reads a safetensors file only after its header says how large the file must be: a junk or
 * truncated file is refused after reading its first bytes, not its whole body, and a FIFO or
 * device is refused before it is read at all.
 */
function readCheckedFile(file: string, fail: (detail: string) => never): Uint8Array {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) fail('not a regular file');
    const size = st.size;
    if (size < 8) fail(`file is ${size} bytes, too short for the 8-byte header length`);
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    const headerLen64 = head.readBigUInt64LE(0);
    if (headerLen64 > BigInt(size - 8)) fail(`header length ${headerLen64} exceeds the ${size - 8} bytes after the length field`);
    if (headerLen64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
    const headerLen = Number(headerLen64);
    const header = Buffer.alloc(headerLen);
    fs.readSync(fd, header, 0, headerLen, 8);
    let dataEnd = 0;
    try {
      for (const v of Object.values(JSON.parse(header.toString('utf8')) as Record<string, { data_offsets?: unknown }>)) {
        const end = Array.isArray(v?.data_offsets) ? Number(v.data_offsets[1]) : 0;
        if (Number.isFinite(end) && end > dataEnd) dataEnd = end;
      }
    } catch { /* the full parse below reports it */ }
    if (8 + headerLen + dataEnd < size && dataEnd > 0) fail(`file is ${size} bytes but its header describes ${8 + headerLen + dataEnd} (trailing data)`);
    if (8 + headerLen + dataEnd > size) fail(`file is ${size} bytes but its header describes ${8 + headerLen + dataEnd} (truncated)`);
    const bytes = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, bytes, off, size - off, off);
      if (n === 0) fail(`file shrank to ${off} bytes while being read`);
      off += n;
    }
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** A safetensors file's bytes, read only after its header vouches for its size (errors: FormatError naming it). */
export function readSafetensorsBytes(file: string): Uint8Array {
  return readCheckedFile(file, (detail: string): never => {
    throw new FormatError(file, `invalid safetensors: ${detail}`);
  });
}

/**
 * Reads and strictly validates a safetensors file or buffer. Any structural
 * problem throws FormatError naming `label` (the path, or "<bytes>").
 * I/O errors such as ENOENT propagate unchanged.
 */
export function readSafetensors(pathOrBytes: string | Uint8Array, label?: string): SafetensorsFile {
  const file = label ?? (typeof pathOrBytes === 'string' ? pathOrBytes : '<bytes>');
  const fail = (detail: string): never => {
    throw new FormatError(file, `invalid safetensors: ${detail}`);
  };
  return decodeSafetensors(typeof pathOrBytes === 'string' ? readCheckedFile(pathOrBytes, fail) : pathOrBytes, file);
}

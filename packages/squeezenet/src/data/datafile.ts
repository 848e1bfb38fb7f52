import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { DataError } from './errors.js';
import { DATA_FILE_HEADER_BYTES, DATA_FILE_MAGIC, dataFileCrc, parseDataFile } from './datafile-bytes.js';
import { hasErrorCode, writeFileAtomic } from './fsutil.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH, type Split } from './split.js';

/** Writes a prepared split file (the layout is described in datafile-bytes.ts). */
export function writeDataFile(path: string, split: Split): void {
  const labels = split.labels.subarray(0, split.count);
  const images = split.images.subarray(0, split.count * IMAGE_BYTES);
  const header = Buffer.alloc(DATA_FILE_HEADER_BYTES);
  header.write(DATA_FILE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(split.count, 8);
  header.writeUInt32LE(IMAGE_CHANNELS, 12);
  header.writeUInt32LE(IMAGE_HEIGHT, 16);
  header.writeUInt32LE(IMAGE_WIDTH, 20);
  header.writeUInt32LE(dataFileCrc(labels, images), 24);
  writeFileAtomic(path, header, labels, images);
}

/** The header of a prepared split file (count, shape, CRC-32 of the contents). */
export function readDataFileHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(DATA_FILE_HEADER_BYTES);
    readSync(fd, header, 0, DATA_FILE_HEADER_BYTES, 0);
    return header;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and verifies a prepared split file. Any problem is a DataError naming the file and
 * ending with `advice` (what the user should run to rebuild it).
 */
export function readDataFile(path: string, advice: string): Split {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) throw new DataError(`${path}: missing; ${advice}.`);
    throw new DataError(`${path}: cannot be read (${String(error)}); ${advice}.`, { cause: error });
  }
  return parseDataFile(bytes, path, advice);
}

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import CRC32 from 'crc-32';
import { DataError } from './errors.js';
import { hasErrorCode, writeFileAtomic } from './fsutil.js';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH, type Split } from './split.js';

/*
 * Prepared split file ("SQZDATA1"), all integers little-endian u32:
 *   0  magic "SQZDATA1"
 *   8  count
 *  12  channels (3)
 *  16  height (32)
 *  20  width (32)
 *  24  CRC-32 of everything after the header
 *  28  labels: count bytes
 *      images: count × channels × height × width bytes, CHW per image
 * The exact expected size catches truncation; the CRC catches corruption.
 */
const MAGIC = 'SQZDATA1';
const HEADER_BYTES = 28;

function payloadCrc(labels: Uint8Array, images: Uint8Array): number {
  return CRC32.buf(images, CRC32.buf(labels)) >>> 0;
}

export function writeDataFile(path: string, split: Split): void {
  const labels = split.labels.subarray(0, split.count);
  const images = split.images.subarray(0, split.count * IMAGE_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(split.count, 8);
  header.writeUInt32LE(IMAGE_CHANNELS, 12);
  header.writeUInt32LE(IMAGE_HEIGHT, 16);
  header.writeUInt32LE(IMAGE_WIDTH, 20);
  header.writeUInt32LE(payloadCrc(labels, images), 24);
  writeFileAtomic(path, header, labels, images);
}

/** The header of a prepared split file (count, shape, CRC-32 of the contents). */
export function readDataFileHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    readSync(fd, header, 0, HEADER_BYTES, 0);
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
  const fail = (problem: string): never => {
    throw new DataError(`${path}: ${problem}; ${advice}.`);
  };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) fail('missing');
    throw new DataError(`${path}: cannot be read (${String(error)}); ${advice}.`, { cause: error });
  }
  if (bytes.length < HEADER_BYTES) fail(`only ${bytes.length} bytes, too short for the header (truncated)`);
  if (bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) fail(`not a prepared data file (no ${MAGIC} header)`);
  const count = bytes.readUInt32LE(8);
  const shape = [bytes.readUInt32LE(12), bytes.readUInt32LE(16), bytes.readUInt32LE(20)];
  if (shape.join('x') !== `${IMAGE_CHANNELS}x${IMAGE_HEIGHT}x${IMAGE_WIDTH}`) {
    fail(`images are ${shape.join('×')}, expected ${IMAGE_CHANNELS}×${IMAGE_HEIGHT}×${IMAGE_WIDTH}`);
  }
  const expectedBytes = HEADER_BYTES + count * (1 + IMAGE_BYTES);
  if (bytes.length !== expectedBytes) {
    fail(`${bytes.length} bytes but its header promises ${expectedBytes} (${bytes.length < expectedBytes ? 'truncated' : 'trailing data'})`);
  }
  const labels = new Uint8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, count);
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES + count, count * IMAGE_BYTES);
  if (payloadCrc(labels, images) !== bytes.readUInt32LE(24)) fail('checksum mismatch (file corrupt)');
  return { count, labels, images };
}

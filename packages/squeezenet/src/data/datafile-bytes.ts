import CRC32 from 'crc-32';
import { DataError } from './errors.js';
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
 * The exact expected size catches truncation; the CRC catches corruption. This module only reads
 * and checks bytes (no files), so the web page parses the files the server sends with it.
 */
export const DATA_FILE_MAGIC = 'SQZDATA1';
export const DATA_FILE_HEADER_BYTES = 28;

export function dataFileCrc(labels: Uint8Array, images: Uint8Array): number {
  return CRC32.buf(images, CRC32.buf(labels)) >>> 0;
}

/**
 * Verifies a prepared split file's bytes and returns the split (sharing `bytes`' memory). Any
 * problem is a DataError naming `file` and ending with `advice` (what rebuilds it).
 */
export function parseDataFile(bytes: Uint8Array, file: string, advice: string): Split {
  const fail = (problem: string): never => {
    throw new DataError(`${file}: ${problem}; ${advice}.`);
  };
  if (bytes.length < DATA_FILE_HEADER_BYTES) fail(`only ${bytes.length} bytes, too short for the header (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, DATA_FILE_MAGIC.length));
  if (magic !== DATA_FILE_MAGIC) fail(`not a prepared data file (no ${DATA_FILE_MAGIC} header)`);
  const count = view.getUint32(8, true);
  const shape = [view.getUint32(12, true), view.getUint32(16, true), view.getUint32(20, true)];
  if (shape.join('x') !== `${IMAGE_CHANNELS}x${IMAGE_HEIGHT}x${IMAGE_WIDTH}`) {
    fail(`images are ${shape.join('×')}, expected ${IMAGE_CHANNELS}×${IMAGE_HEIGHT}×${IMAGE_WIDTH}`);
  }
  const expectedBytes = DATA_FILE_HEADER_BYTES + count * (1 + IMAGE_BYTES);
  if (bytes.length !== expectedBytes) {
    fail(`${bytes.length} bytes but its header promises ${expectedBytes} (${bytes.length < expectedBytes ? 'truncated' : 'trailing data'})`);
  }
  // Plain views, whatever kind of Uint8Array `bytes` is (Node's Buffer, for one).
  const labels = new Uint8Array(bytes.buffer, bytes.byteOffset + DATA_FILE_HEADER_BYTES, count);
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + DATA_FILE_HEADER_BYTES + count, count * IMAGE_BYTES);
  if (dataFileCrc(labels, images) !== view.getUint32(24, true)) fail('checksum mismatch (file corrupt)');
  return { count, labels, images };
}

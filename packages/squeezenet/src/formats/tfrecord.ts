import crc32cImpl from 'crc-32/crc32c.js';

import { FormatError } from './errors.js';

/**
 * TFRecord framing, as used by TensorBoard event files:
 *   u64 LE  length
 *   u32 LE  masked CRC32C of the 8 length bytes
 *   bytes   data
 *   u32 LE  masked CRC32C of data
 */

/** CRC32C (Castagnoli), as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array): number {
  return crc32cImpl.buf(bytes) >>> 0;
}

/**
 * TensorFlow's CRC masking: rotate right by 15 and add a constant, so that
 * CRCs of data that itself embeds CRCs do not degenerate.
 */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}

/** Frames one record. */
export function encodeTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.byteLength + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.byteLength), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.byteLength, maskedCrc32c(data), true);
  return out;
}

export interface DecodeTfRecordsOptions {
  /**
   * Accept (and drop) an incomplete final record, as a reader tailing a file
   * that is still being written must. Corruption is still an error.
   */
  allowTruncatedTail?: boolean;
}

/** Splits a TFRecord stream into records, verifying both CRCs of each. */
export function decodeTfRecords(bytes: Uint8Array, label = '<bytes>', opts: DecodeTfRecordsOptions = {}): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.byteLength) {
    const truncated = (what: string): never => {
      throw new FormatError(label, `truncated TFRecord at byte ${pos}: ${what}`);
    };
    if (bytes.byteLength - pos < 12) {
      if (opts.allowTruncatedTail) break;
      truncated(`${bytes.byteLength - pos} bytes left, record header needs 12`);
    }
    const len64 = view.getBigUint64(pos, true);
    const lenCrc = view.getUint32(pos + 8, true);
    if (maskedCrc32c(bytes.subarray(pos, pos + 8)) !== lenCrc) {
      throw new FormatError(label, `TFRecord length CRC mismatch at byte ${pos}`);
    }
    const available = bytes.byteLength - pos - 16;
    if (len64 > BigInt(Math.max(available, 0))) {
      if (opts.allowTruncatedTail) break;
      truncated(`record length ${len64} but only ${Math.max(available, 0)} data bytes left`);
    }
    const len = Number(len64);
    const data = bytes.subarray(pos + 12, pos + 12 + len);
    if (maskedCrc32c(data) !== view.getUint32(pos + 12 + len, true)) {
      throw new FormatError(label, `TFRecord data CRC mismatch in record at byte ${pos}`);
    }
    records.push(data);
    pos += 16 + len;
  }
  return records;
}

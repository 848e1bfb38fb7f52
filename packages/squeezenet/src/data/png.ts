import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import CRC32 from 'crc-32';
import pngjs from 'pngjs';
import { DataError } from './errors.js';
import { modelInputFromRgba } from './image.js';
import { IMAGE_CHANNELS, IMAGE_PLANE } from './split.js';

export { modelInputFromRgba, resizeBilinear } from './image.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_COLOR_TYPE_RGB = 2;

function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(CRC32.buf(chunk.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return chunk;
}

/**
 * Encodes 8-bit RGB pixels (row-major, interleaved RGB) as a PNG. Hand-rolled rather than
 * pngjs because setup writes tens of thousands of tiny images: no filtering and fast
 * deflate make this about twice as fast, and the files are only slightly larger.
 */
export function encodePngRgb(width: number, height: number, rgbBytes: Uint8Array): Buffer {
  const rowBytes = width * 3;
  if (rgbBytes.length !== rowBytes * height) {
    throw new RangeError(`encodePngRgb: ${rgbBytes.length} bytes given for ${width}×${height} RGB (${rowBytes * height} needed)`);
  }
  // Each scanline is prefixed with its filter type; 0 means unfiltered.
  const scanlines = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    scanlines.set(rgbBytes.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = PNG_COLOR_TYPE_RGB; // compression, filter and interlace methods stay 0
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(scanlines, { level: 1 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

export interface DecodedImage {
  /** 3×32×32, channel planes first, values in [0, 1]. */
  rgb: Float32Array;
  sourceWidth: number;
  sourceHeight: number;
}

/**
 * Reads any PNG (grey, grey+alpha, RGB, RGBA, palette; 1–16 bits; any size) as the model's
 * input: RGB in [0, 1], resized to 32×32. Alpha is dropped rather than composited, since
 * CIFAR-10 has no notion of a background colour.
 */
export function decodeImageFile(path: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError(`${path}: cannot be read (${String(error)}); check the path.`, { cause: error });
  }
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw new DataError(`${path}: not a PNG file; convert the image to PNG first.`);
  }
  checkPngSize(path, bytes);
  let decoded: { width: number; height: number; data: Buffer };
  try {
    // pngjs expands every colour type and bit depth to 8-bit RGBA (16-bit samples are rescaled).
    decoded = pngjs.PNG.sync.read(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`${path}: damaged or truncated PNG (${reason}); re-export or re-download the image.`, { cause: error });
  }
  const { width, height, data } = decoded;
  return { rgb: modelInputFromRgba(data, width, height), sourceWidth: width, sourceHeight: height };
}

/**
 * Decoding takes about 16 bytes of memory per pixel (pngjs's RGBA plus our float planes) whatever
 * the file's size, so a small file claiming huge dimensions could exhaust memory; larger images
 * are refused before decoding.
 */
export const MAX_DECODE_PIXELS = 50_000_000;
/** Deflate expands data at most about 1032:1, which bounds the pixels a file's image data can hold. */
const MAX_DEFLATE_EXPANSION = 1100;
/** Samples per pixel of each PNG colour type (grey, RGB, palette, grey+alpha, RGBA). */
const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Checks the IHDR dimensions (the first chunk in any valid PNG; pngjs rejects files where it is
 * not) against the decoding limit and against the image data present, so that decoding work and
 * memory stay proportional to the file (pngjs pads missing image data instead of failing).
 */
function checkPngSize(path: string, bytes: Buffer): void {
  const IHDR_WIDTH_OFFSET = 16;
  if (bytes.length < IHDR_WIDTH_OFFSET + 10 || bytes.toString('latin1', 12, 16) !== 'IHDR') return;
  const width = bytes.readUInt32BE(IHDR_WIDTH_OFFSET);
  const height = bytes.readUInt32BE(IHDR_WIDTH_OFFSET + 4);
  const bitDepth = bytes[IHDR_WIDTH_OFFSET + 8]!;
  const samples = SAMPLES_PER_PIXEL[bytes[IHDR_WIDTH_OFFSET + 9]!];
  if (width === 0 || height === 0) throw new DataError(`${path}: damaged PNG (its header says ${width}×${height} pixels); re-export the image.`);
  if (width * height > MAX_DECODE_PIXELS) {
    throw new DataError(`${path}: ${width}×${height} pixels is more than the ${MAX_DECODE_PIXELS / 1e6} megapixels squeeze decodes; shrink the image first.`);
  }
  if (samples === undefined) return; // an invalid colour type: pngjs reports it
  let imageDataBytes = 0;
  let at = PNG_SIGNATURE.length;
  while (at < bytes.length) {
    // Every chunk must be whole: pngjs would decode a file cut inside its image data with the
    // missing rows filled in instead of failing.
    const length = at + 8 <= bytes.length ? bytes.readUInt32BE(at) : Infinity;
    if (at + 12 + length > bytes.length) {
      const type = at + 8 <= bytes.length ? bytes.toString('latin1', at + 4, at + 8) : 'chunk header';
      throw new DataError(`${path}: damaged or truncated PNG (the file ends inside its ${type}); re-export or re-download the image.`);
    }
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') imageDataBytes += length;
    at += 12 + length;
    if (type === 'IEND') break;
  }
  const minRawBytes = height * Math.ceil((width * samples * bitDepth) / 8);
  if (imageDataBytes * MAX_DEFLATE_EXPANSION < minRawBytes) {
    throw new DataError(`${path}: damaged or truncated PNG (${imageDataBytes} bytes of image data cannot hold ${width}×${height} pixels); re-export or re-download the image.`);
  }
}

/** Converts one CHW image of IMAGE_BYTES bytes to the interleaved RGB rows that encodePngRgb takes. */
export function chwToInterleaved(chw: Uint8Array): Uint8Array {
  const interleaved = new Uint8Array(chw.length);
  for (let pixel = 0; pixel < IMAGE_PLANE; pixel++) {
    for (let c = 0; c < IMAGE_CHANNELS; c++) interleaved[pixel * IMAGE_CHANNELS + c] = chw[c * IMAGE_PLANE + pixel]!;
  }
  return interleaved;
}

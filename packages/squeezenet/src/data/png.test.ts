import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import CRC32 from 'crc-32';
import pngjs from 'pngjs';
import { DataError } from './errors.js';
import { decodeImageFile, encodePngRgb, resizeBilinear } from './png.js';

const { PNG } = pngjs;

/** Deterministic RGB test pixels, one byte per sample, row-major interleaved. */
function samplePixels(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = (x * 8 + y) % 256;
      rgb[i + 1] = (y * 8 + 3 * x) % 256;
      rgb[i + 2] = (x * y + 17) % 256;
    }
  }
  return rgb;
}

/** CHW floats in [0, 1] from interleaved RGB bytes. */
function toPlanes(rgb: Uint8Array, width: number, height: number): Float32Array {
  const planes = new Float32Array(3 * width * height);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) planes[c * width * height + p] = rgb[p * 3 + c]! / 255;
  return planes;
}

/** Encodes with pngjs from RGBA input (alpha 255 unless given) into the requested colour type and depth. */
function pngjsEncode(width: number, height: number, rgb: Uint8Array, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16, alpha = 255): Buffer {
  if (bitDepth === 16) {
    // pngjs takes 16-bit input as RGBA samples in a Uint16Array; v·257 maps byte v to the same fraction of 65535.
    const data = new Uint16Array(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) data[p * 4 + c] = rgb[p * 3 + c]! * 257;
      data[p * 4 + 3] = alpha * 257;
    }
    return PNG.sync.write({ width, height, data } as unknown as InstanceType<typeof PNG>, { colorType, bitDepth: 16, inputColorType: 6 });
  }
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = rgb[p * 3 + c]!;
    data[p * 4 + 3] = alpha;
  }
  return PNG.sync.write({ width, height, data } as unknown as InstanceType<typeof PNG>, { colorType, bitDepth: 8 });
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeInt32BE(CRC32.buf(body), body.length + 4);
  return out;
}

/** A palette PNG built by hand (pngjs cannot write colour type 3), indices packed at `bitDepth` bits. */
function palettePng(width: number, height: number, palette: [number, number, number][], indices: number[], bitDepth: 2 | 4 | 8): Buffer {
  const rowBytes = Math.ceil((width * bitDepth) / 8);
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * bitDepth;
      const byte = y * (rowBytes + 1) + 1 + (bit >> 3);
      raw[byte]! |= indices[y * width + x]! << (8 - bitDepth - (bit & 7));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = bitDepth;
  header[9] = 3;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Reference bilinear resize (align_corners=false) written as separate row/column weight matrices. */
function referenceResize(planes: Float32Array, inH: number, inW: number, outH: number, outW: number): Float64Array {
  const weights = (inSize: number, outSize: number): number[][] =>
    Array.from({ length: outSize }, (_, o) => {
      const row = new Array<number>(inSize).fill(0);
      const src = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      const i1 = Math.min(i0 + 1, inSize - 1);
      row[i0]! += 1 - (src - i0);
      row[i1]! += src - i0;
      return row;
    });
  const wy = weights(inH, outH);
  const wx = weights(inW, outW);
  const out = new Float64Array(3 * outH * outW);
  for (let c = 0; c < 3; c++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let sum = 0;
        for (let iy = 0; iy < inH; iy++) {
          for (let ix = 0; ix < inW; ix++) sum += wy[oy]![iy]! * wx[ox]![ix]! * planes[c * inH * inW + iy * inW + ix]!;
        }
        out[c * outH * outW + oy * outW + ox] = sum;
      }
    }
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > tolerance) assert.fail(`index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('data/png', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'squeeze-png-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('encodePngRgb output decodes (with pngjs) to the same pixels', () => {
    const rgb = samplePixels(7, 5);
    const decoded = PNG.sync.read(encodePngRgb(7, 5, rgb));
    assert.equal(decoded.width, 7);
    assert.equal(decoded.height, 5);
    for (let p = 0; p < 35; p++) for (let c = 0; c < 3; c++) assert.equal(decoded.data[p * 4 + c], rgb[p * 3 + c]);
    assert.throws(() => encodePngRgb(7, 5, rgb.subarray(1)), RangeError);
  });

  it('decodes 32×32 RGB exactly, as CHW in [0, 1]', () => {
    const rgb = samplePixels(32, 32);
    const { rgb: planes, sourceWidth, sourceHeight } = decodeImageFile(write('rgb8.png', encodePngRgb(32, 32, rgb)));
    assert.deepEqual([sourceWidth, sourceHeight], [32, 32]);
    assertClose(planes, toPlanes(rgb, 32, 32), 1e-7);
  });

  const colourCases: { name: string; colorType: 0 | 2 | 4 | 6; bitDepth: 8 | 16; grey: boolean }[] = [
    { name: 'grey 8-bit', colorType: 0, bitDepth: 8, grey: true },
    { name: 'grey 16-bit', colorType: 0, bitDepth: 16, grey: true },
    { name: 'grey+alpha 8-bit', colorType: 4, bitDepth: 8, grey: true },
    { name: 'RGB 8-bit (pngjs)', colorType: 2, bitDepth: 8, grey: false },
    { name: 'RGB 16-bit', colorType: 2, bitDepth: 16, grey: false },
    { name: 'RGBA 8-bit', colorType: 6, bitDepth: 8, grey: false },
    { name: 'RGBA 16-bit', colorType: 6, bitDepth: 16, grey: false },
  ];
  for (const { name, colorType, bitDepth, grey } of colourCases) {
    it(`decodes ${name}, dropping any alpha`, () => {
      const rgb = samplePixels(32, 32);
      if (grey) for (let p = 0; p < 1024; p++) rgb[p * 3 + 1] = rgb[p * 3 + 2] = rgb[p * 3]!;
      // Half-transparent alpha must not change the colour values.
      const png = pngjsEncode(32, 32, rgb, colorType, bitDepth, colorType === 4 || colorType === 6 ? 128 : 255);
      assert.equal(png[24], bitDepth, 'IHDR bit depth');
      assert.equal(png[25], colorType, 'IHDR colour type');
      assertClose(decodeImageFile(write(`${name}.png`, png)).rgb, toPlanes(rgb, 32, 32), 1e-7);
    });
  }

  for (const bitDepth of [8, 4, 2] as const) {
    it(`decodes a ${bitDepth}-bit palette PNG`, () => {
      const palette: [number, number, number][] = [
        [255, 0, 0],
        [0, 128, 255],
        [10, 20, 30],
        [200, 200, 7],
      ];
      const indices = Array.from({ length: 1024 }, (_, p) => (p * 7 + (p >> 5)) % 4);
      const decoded = decodeImageFile(write(`palette${bitDepth}.png`, palettePng(32, 32, palette, indices, bitDepth)));
      const expected = new Uint8Array(1024 * 3);
      indices.forEach((index, p) => expected.set(palette[index]!, p * 3));
      assertClose(decoded.rgb, toPlanes(expected, 32, 32), 1e-7);
    });
  }

  it('matches PyTorch bilinear (align_corners=false) on a 2×2 → 4×4 upsample', () => {
    const out = resizeBilinear(new Float32Array([0, 1, 2, 3]), 1, 2, 2, 4, 4);
    assertClose(out, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3], 1e-6);
  });

  it('halving a 64×64 image averages 2×2 blocks', () => {
    const rgb = samplePixels(64, 64);
    const { rgb: planes } = decodeImageFile(write('big.png', encodePngRgb(64, 64, rgb)));
    const source = toPlanes(rgb, 64, 64);
    for (const [c, y, x] of [[0, 0, 0], [1, 5, 31], [2, 31, 17]] as const) {
      const at = (yy: number, xx: number) => source[c * 4096 + yy * 64 + xx]!;
      const block = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
      assert.ok(Math.abs(planes[c * 1024 + y * 32 + x]! - block) < 1e-6, `pixel ${c},${y},${x}`);
    }
  });

  it('resizes non-square, odd-sized images like the reference implementation', () => {
    for (const [width, height] of [[45, 20], [13, 77], [100, 100]] as const) {
      const rgb = samplePixels(width, height);
      const decoded = decodeImageFile(write(`odd${width}x${height}.png`, pngjsEncode(width, height, rgb, 6, 8)));
      assert.deepEqual([decoded.sourceWidth, decoded.sourceHeight], [width, height]);
      assertClose(decoded.rgb, referenceResize(toPlanes(rgb, width, height), height, width, 32, 32), 1e-5);
    }
  });

  it('raises DataError naming the file for truncated, corrupt, non-PNG and missing files', () => {
    const valid = encodePngRgb(32, 32, samplePixels(32, 32));
    const corrupt = Buffer.from(valid);
    corrupt[40] ^= 0xff; // inside IDAT: the chunk CRC no longer matches
    // A flat image compresses so well that half its image data passes the size plausibility check.
    const flat = encodePngRgb(64, 64, new Uint8Array(64 * 64 * 3).fill(90));
    const idat = flat.indexOf('IDAT', 8, 'latin1') - 4;
    const cutInsideImageData = flat.subarray(0, idat + 8 + Math.floor(flat.readUInt32BE(idat) / 2));
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.png', valid.subarray(0, valid.length - 30), /damaged or truncated PNG/],
      ['cut-in-image-data.png', cutInsideImageData, /damaged or truncated PNG \(the file ends inside its IDAT\)/],
      ['header-only.png', valid.subarray(0, 12), /damaged or truncated PNG/],
      ['corrupt.png', corrupt, /damaged or truncated PNG/],
      ['photo.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]), /not a PNG file/],
    ];
    for (const [name, bytes, problem] of cases) {
      const path = write(name, bytes);
      assert.throws(
        () => decodeImageFile(path),
        (error: unknown) => error instanceof DataError && error.message.startsWith(`${path}: `) && problem.test(error.message),
        name,
      );
    }
    assert.throws(() => decodeImageFile(join(dir, 'absent.png')), (error: unknown) => error instanceof DataError && /absent\.png: cannot be read/.test(error.message));
  });
});

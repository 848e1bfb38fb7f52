import { IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from './split.js';

/*
 * From decoded pixels to the model's input. Pure arithmetic (no decoder, no files), so that
 * `squeeze predict` (pngjs) and the web page (the browser's decoder) prepare images identically.
 */

/**
 * Resizes a CHW float image bilinearly with align_corners=false and no antialiasing, matching
 * PyTorch's F.interpolate(mode='bilinear'): output pixel centres map back to input
 * coordinates (dst + 0.5) · in/out − 0.5, clamped at 0 on the low side.
 */
export function resizeBilinear(
  source: Float32Array,
  channels: number,
  inHeight: number,
  inWidth: number,
  outHeight: number,
  outWidth: number,
): Float32Array {
  const sampleAxis = (inSize: number, outSize: number) => {
    const low = new Int32Array(outSize);
    const high = new Int32Array(outSize);
    const highWeight = new Float32Array(outSize);
    const scale = inSize / outSize;
    for (let i = 0; i < outSize; i++) {
      const position = Math.max(0, (i + 0.5) * scale - 0.5);
      const index = Math.min(Math.floor(position), inSize - 1);
      low[i] = index;
      high[i] = Math.min(index + 1, inSize - 1);
      highWeight[i] = position - index;
    }
    return { low, high, highWeight };
  };
  const rows = sampleAxis(inHeight, outHeight);
  const cols = sampleAxis(inWidth, outWidth);
  const out = new Float32Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++) {
    const plane = c * inHeight * inWidth;
    for (let y = 0; y < outHeight; y++) {
      const top = plane + rows.low[y]! * inWidth;
      const bottom = plane + rows.high[y]! * inWidth;
      const wy = rows.highWeight[y]!;
      for (let x = 0; x < outWidth; x++) {
        const left = cols.low[x]!;
        const right = cols.high[x]!;
        const wx = cols.highWeight[x]!;
        const upper = source[top + left]! * (1 - wx) + source[top + right]! * wx;
        const lower = source[bottom + left]! * (1 - wx) + source[bottom + right]! * wx;
        out[(c * outHeight + y) * outWidth + x] = upper * (1 - wy) + lower * wy;
      }
    }
  }
  return out;
}

/**
 * 8-bit RGBA pixels (row-major, as pngjs and canvas ImageData give them) as the model's input:
 * RGB planes in [0, 1], resized to 32×32. Alpha is dropped rather than composited, since CIFAR-10
 * has no notion of a background colour.
 */
export function modelInputFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const planes = new Float32Array(IMAGE_CHANNELS * width * height);
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    for (let pixel = 0; pixel < width * height; pixel++) {
      planes[c * width * height + pixel] = rgba[pixel * 4 + c]! / 255;
    }
  }
  return width === IMAGE_WIDTH && height === IMAGE_HEIGHT
    ? planes
    : resizeBilinear(planes, IMAGE_CHANNELS, height, width, IMAGE_HEIGHT, IMAGE_WIDTH);
}

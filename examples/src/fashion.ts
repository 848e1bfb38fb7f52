import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { HostDataset } from './data.js';

/** Where Debian's dataset-fashion-mnist package installs the idx files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** An idx file's bytes (gunzipped when it is .gz), its magic and dimensions checked. */
function readIdx(dir: string, name: string, magic: number, rank: number): { dims: number[]; data: Uint8Array } {
  const path = [join(dir, `${name}.gz`), join(dir, name)].find((p) => existsSync(p));
  if (!path) throw new Error(`${join(dir, name)}(.gz): not found; install dataset-fashion-mnist or pass the folder holding the idx files`);
  const raw = readFileSync(path);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4 + 4 * rank || view.getUint32(0) !== magic) throw new Error(`${path}: not an idx file with magic 0x${magic.toString(16)}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const data = bytes.subarray(4 + 4 * rank);
  if (data.byteLength !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${path}: ${data.byteLength} bytes of data for dimensions [${dims}]`);
  return { dims, data };
}

/**
 * A Fashion-MNIST split as [1, 28, 28] images scaled to [0, 1] and standardised with the training
 * set's mean and standard deviation (0.2860, 0.3530), the first `limit` examples when given.
 */
export function fashionMnist(split: 'train' | 't10k', opts: { dir?: string; limit?: number } = {}): HostDataset {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  const images = readIdx(dir, `${split}-images-idx3-ubyte`, 0x803, 3);
  const labels = readIdx(dir, `${split}-labels-idx1-ubyte`, 0x801, 1);
  if (images.dims[0] !== labels.dims[0]) throw new Error(`${dir}: ${images.dims[0]} ${split} images but ${labels.dims[0]} labels`);
  const n = Math.min(images.dims[0]!, opts.limit ?? Infinity);
  const pixels = 28 * 28;
  const features = Float32Array.from(images.data.subarray(0, n * pixels), (v) => (v / 255 - 0.286) / 0.353);
  return { features, labels: Int32Array.from(labels.data.subarray(0, n)), exampleShape: [1, 28, 28], classes: 10 };
}

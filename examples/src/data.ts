import { Random } from '@squeeze/core';

/** A labelled data set held on the host: `features` row-major, one row per example. */
export interface HostDataset {
  features: Float32Array;
  labels: Int32Array;
  /** shape of one example, e.g. [2] or [1, 16, 16] */
  exampleShape: number[];
  classes: number;
}

export function exampleSize(d: HostDataset): number { return d.exampleShape.reduce((a, b) => a * b, 1); }

/** Rows `indices` of a data set, as host arrays ready to upload. */
export function gather(d: HostDataset, indices: ArrayLike<number>): { features: Float32Array; labels: Int32Array } {
  const size = exampleSize(d);
  const features = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    features.set(d.features.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = d.labels[j]!;
  }
  return { features, labels };
}

/**
 * The classic two-dimensional spiral: `classes` arms of `perClass` points each, the angle growing
 * with the radius plus Gaussian noise. Not linearly separable, so it needs hidden layers.
 */
export function spiral(perClass: number, classes: number, rng: Random, noise = 0.2): HostDataset {
  const n = perClass * classes;
  const features = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = (i + 1) / perClass;
      const angle = (4 * c) + 4 * r + noise * rng.normal();
      const k = c * perClass + i;
      features[2 * k] = r * Math.sin(angle);
      features[2 * k + 1] = r * Math.cos(angle);
      labels[k] = c;
    }
  }
  return { features, labels, exampleShape: [2], classes };
}

export const SHAPE_CLASSES = ['horizontal stripes', 'vertical stripes', 'square', 'cross'] as const;

/**
 * `count` one-channel images of `size`×`size` pixels, each one of SHAPE_CLASSES at a random
 * position, scale, stripe period and brightness, plus Gaussian pixel noise. Squares are filled,
 * crosses one pixel thick.
 */
export function shapeImages(count: number, size: number, rng: Random, noise = 0.25): HostDataset {
  const features = new Float32Array(count * size * size);
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const label = rng.int(SHAPE_CLASSES.length);
    labels[k] = label;
    const brightness = rng.uniform(0.6, 1.2);
    const period = 2 + rng.int(3);
    const phase = rng.int(period);
    const half = 2 + rng.int(Math.floor(size / 4));
    const cy = half + rng.int(size - 2 * half);
    const cx = half + rng.int(size - 2 * half);
    const image = features.subarray(k * size * size, (k + 1) * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let on: boolean;
        switch (label) {
          case 0: on = (y + phase) % period === 0; break;
          case 1: on = (x + phase) % period === 0; break;
          case 2: on = Math.abs(y - cy) <= half && Math.abs(x - cx) <= half; break;
          default: on = (y === cy && Math.abs(x - cx) <= half) || (x === cx && Math.abs(y - cy) <= half);
        }
        image[y * size + x] = (on ? brightness : 0) + noise * rng.normal();
      }
    }
  }
  return { features, labels, exampleShape: [1, size, size], classes: SHAPE_CLASSES.length };
}

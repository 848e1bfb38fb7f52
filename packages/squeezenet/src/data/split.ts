/** Every prepared image is 3×32×32 bytes, channel planes first (CHW), whatever its source. */
export const IMAGE_CHANNELS = 3;
export const IMAGE_HEIGHT = 32;
export const IMAGE_WIDTH = 32;
export const IMAGE_PLANE = IMAGE_HEIGHT * IMAGE_WIDTH;
export const IMAGE_BYTES = IMAGE_CHANNELS * IMAGE_PLANE;

/** One split of a dataset: `images` holds `count` images of IMAGE_BYTES bytes each, CHW. */
export interface Split {
  count: number;
  labels: Uint8Array;
  images: Uint8Array;
}

/** The first `limit` images of a split (all of them when `limit` is undefined), sharing memory. */
export function takeFirst(split: Split, limit: number | undefined): Split {
  if (limit === undefined || limit >= split.count) return split;
  return {
    count: limit,
    labels: split.labels.subarray(0, limit),
    images: split.images.subarray(0, limit * IMAGE_BYTES),
  };
}

import { FIRE_SIZES, POOL_AFTER_FIRE } from '@squeeze/squeezenet';

/** One distinct convolution of SqueezeNet on 32×32 CIFAR images; `layers` lists every layer of that shape. */
export interface ConvShape {
  /** the first layer of this shape, as traced kernels name it (`fire2/expand3x3`). */
  name: string;
  layers: string[];
  cin: number;
  cout: number;
  /** square kernel size. */
  k: number;
  /** square input (and, stride 1 SAME, output) size. */
  size: number;
}

/** Side of the CIFAR images the network is trained on. */
const IMAGE_SIZE = 32;
/** conv1 of the sample: 96 filters of 2×2. */
const CONV1 = { cout: 96, k: 2 };
/** The classifier: conv10 (1×1 → 10 classes) on the 1×1 map left by the 4×4 average pool. */
const CONV10 = { cout: 10, size: 1 };

/** Every convolution layer of the network in order, with the map size it runs on. */
export function squeezeNetConvLayers(): ConvShape[] {
  const layers: ConvShape[] = [{ name: 'conv1', layers: ['conv1'], cin: 3, cout: CONV1.cout, k: CONV1.k, size: IMAGE_SIZE }];
  // pool1 follows conv1.
  let size = IMAGE_SIZE / 2;
  let channels = CONV1.cout;
  FIRE_SIZES.forEach(([squeeze, expand], i) => {
    const fire = `fire${i + 2}`;
    const conv = (part: string, cin: number, cout: number, k: number): ConvShape => ({ name: `${fire}/${part}`, layers: [`${fire}/${part}`], cin, cout, k, size });
    layers.push(conv('squeeze', channels, squeeze, 1), conv('expand1x1', squeeze, expand, 1), conv('expand3x3', squeeze, expand, 3));
    channels = 2 * expand;
    if (POOL_AFTER_FIRE.has(i + 2)) size /= 2;
  });
  layers.push({ name: 'conv10', layers: ['conv10'], cin: channels, cout: CONV10.cout, k: 1, size: CONV10.size });
  return layers;
}

/** The distinct convolution shapes (same channels, kernel and map size), in network order. */
export function distinctConvShapes(): ConvShape[] {
  const byKey = new Map<string, ConvShape>();
  for (const layer of squeezeNetConvLayers()) {
    const key = `${layer.cin},${layer.cout},${layer.k},${layer.size}`;
    const seen = byKey.get(key);
    if (seen) seen.layers.push(...layer.layers);
    else byKey.set(key, { ...layer, layers: [...layer.layers] });
  }
  return [...byKey.values()];
}

/** The three passes of a convolution's training. */
export type ConvPass = 'forward' | 'backward-data' | 'backward-filter';

/**
 * The GEMM each pass of a convolution of this shape amounts to (stride 1, SAME), written as the
 * im2col formulation's three products, each of 2·M·N·K floating-point operations, the same count:
 * - forward: y [pixels, out] = cols [pixels, in·taps] · wᵀ — M = output pixels of the batch,
 *   N = output channels, K = input channels · kernel taps;
 * - backward-data: dcols [pixels, in·taps] = dy [pixels, out] · w — M = pixels, N = in·taps, K = out;
 * - backward-filter: dw [out, in·taps] = dyᵀ [out, pixels] · cols — M = out, N = in·taps, K = pixels.
 * The last two have the forward's sizes in another order; a GEMM's speed depends on that order
 * (a K of 16 or an M of 10 leaves a tile mostly idle), so each pass has its own ceiling.
 */
export function gemmSizes(shape: ConvShape, batchSize: number, pass: ConvPass = 'forward'): { M: number; N: number; K: number } {
  const pixels = batchSize * shape.size * shape.size;
  const taps = shape.cin * shape.k * shape.k;
  if (pass === 'backward-data') return { M: pixels, N: taps, K: shape.cout };
  if (pass === 'backward-filter') return { M: shape.cout, N: taps, K: pixels };
  return { M: pixels, N: shape.cout, K: taps };
}

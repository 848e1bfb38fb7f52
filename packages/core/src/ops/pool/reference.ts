import { pool2dGeometry, type Pool2dOptions } from './pool.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

/** Plain float64 references for the pooling ops (either layout, as `opts.dataFormat` says). */

/** Offset of (n, c, y, x) in an NCHW or NHWC tensor of that many images, channels, rows, columns. */
function offsetOf(channelsLast: boolean, c: number, h: number, w: number) {
  return (n: number, ch: number, y: number, x: number): number =>
    channelsLast ? ((n * h + y) * w + x) * c + ch : ((n * c + ch) * h + y) * w + x;
}

/** Max or average pooling; padding never counts (avg divides by the valid elements). */
export function pool2dRef(op: 'max' | 'avg', x: Float64Array, shape: number[], opts: Pool2dOptions): Float64Array {
  const g = pool2dGeometry(shape, opts);
  const at = offsetOf(g.channelsLast, g.c, g.h, g.w);
  const out = offsetOf(g.channelsLast, g.c, g.oh, g.ow);
  const y = new Float64Array(g.n * g.c * g.oh * g.ow);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let best = -Infinity;
          let total = 0;
          let count = 0;
          for (let ky = 0; ky < g.kh; ky++) {
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh - g.padTop + ky;
              const ix = ox * g.sw - g.padLeft + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              const v = x[at(n, c, iy, ix)]!;
              best = Math.max(best, v);
              total += v;
              count++;
            }
          }
          // PyTorch's count_include_pad divisor: the window clipped at the far edge of the padded input
          const hstart = oy * g.sh - g.padTop;
          const wstart = ox * g.sw - g.padLeft;
          const padded = (Math.min(hstart + g.kh, g.h + g.padTop) - hstart) * (Math.min(wstart + g.kw, g.w + g.padLeft) - wstart);
          y[out(n, c, oy, ox)] = op === 'max' ? best : total / (opts.countIncludePad ? padded : count);
        }
      }
    }
  }
  return y;
}

/** Gradient of max pooling: each window's upstream gradient goes to its first maximum (row-major). */
export function maxPool2dGradRef(x: Float64Array, shape: number[], opts: Pool2dOptions, gy: Float64Array): Float64Array {
  const g = pool2dGeometry(shape, opts);
  const at = offsetOf(g.channelsLast, g.c, g.h, g.w);
  const out = offsetOf(g.channelsLast, g.c, g.oh, g.ow);
  const dx = new Float64Array(x.length);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let best = -Infinity;
          let arg = -1;
          for (let ky = 0; ky < g.kh; ky++) {
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh - g.padTop + ky;
              const ix = ox * g.sw - g.padLeft + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              const i = at(n, c, iy, ix);
              if (x[i]! > best) { best = x[i]!; arg = i; }
            }
          }
          dx[arg] += gy[out(n, c, oy, ox)]!;
        }
      }
    }
  }
  return dx;
}

/** Mean over the spatial axes → [N, C]. */
export function globalAvgPoolRef(x: Float64Array, shape: number[], dataFormat: DataFormat): Float64Array {
  const channelsLast = dataFormat === 'NHWC';
  const [n, c, h, w] = channelsLast ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
  const at = offsetOf(channelsLast, c, h, w);
  const y = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let total = 0;
      for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) total += x[at(i, ch, yy, xx)]!;
      y[i * c + ch] = total / (h * w);
    }
  }
  return y;
}

/** [N, C, H, W] values re-laid out as [N, H, W, C]. */
export function nchwToNhwc(x: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < n!; i++) for (let ch = 0; ch < c!; ch++) for (let y = 0; y < h!; y++) for (let xx = 0; xx < w!; xx++) {
    out[((i * h! + y) * w! + xx) * c! + ch] = x[((i * c! + ch) * h! + y) * w! + xx]!;
  }
  return out;
}

/** [N, H, W, C] values re-laid out as [N, C, H, W] (`shape` is the NCHW shape). */
export function nhwcToNchw(x: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < n!; i++) for (let ch = 0; ch < c!; ch++) for (let y = 0; y < h!; y++) for (let xx = 0; xx < w!; xx++) {
    out[((i * c! + ch) * h! + y) * w! + xx] = x[((i * h! + y) * w! + xx) * c! + ch]!;
  }
  return out;
}

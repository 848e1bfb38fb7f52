/**
 * Benchmark of the convolution kernels on the SqueezeNet-on-CIFAR shapes (batch 32): per shape,
 * pass and data format, the fast kernels against the straightforward ones. Not a test. Wall-clock
 * times: on a shared machine other processes inflate them, so compare runs made close together.
 *   node packages/core/dist/ops/conv2d/conv2d.bench.js [--reps=5] [--impl=fast,simple] [--format=NCHW,NHWC] [--only=fire2]
 */
import { init, shutdown } from '../../runtime/global.js';
import { tidy } from '../../memory.js';
import { rand } from '../creation/creation.js';
import type { Tensor } from '../../tensor.js';
import { conv2dGeometry, conv2dOutputShape, type Conv2dGeometry } from './geometry.js';
import { conv2dForward, conv2dBackwardData, conv2dBackwardFilter, conv2dBiasGrad } from './passes.js';
import { conv2dForwardSimple, conv2dBackwardDataSimple, conv2dBackwardFilterSimple, conv2dBiasGradSimple } from './testing/simple.js';
import type { DataFormat } from '@squeeze/kernels-wgsl';

const BATCH = 32;

interface BenchShape { name: string; layers: string[]; cin: number; cout: number; k: number; size: number }

/** Distinct convolution shapes of SqueezeNet on 32×32 CIFAR; `layers` lists who uses each. */
const fire = (name: string, cin: number, s: number, e: number, size: number): BenchShape[] => [
  { name: `${name}/squeeze1x1`, layers: [`${name}/squeeze1x1`], cin, cout: s, k: 1, size },
  { name: `${name}/expand1x1`, layers: [`${name}/expand1x1`], cin: s, cout: e, k: 1, size },
  { name: `${name}/expand3x3`, layers: [`${name}/expand3x3`], cin: s, cout: e, k: 3, size },
];
const ALL_LAYERS: BenchShape[] = [
  { name: 'conv1', layers: ['conv1'], cin: 3, cout: 96, k: 2, size: 32 },
  ...fire('fire2', 96, 16, 64, 16), ...fire('fire3', 128, 16, 64, 16), ...fire('fire4', 128, 32, 128, 16),
  ...fire('fire5', 256, 32, 128, 8), ...fire('fire6', 256, 48, 192, 8), ...fire('fire7', 384, 48, 192, 8),
  ...fire('fire8', 384, 64, 256, 8), ...fire('fire9', 512, 64, 256, 4),
  { name: 'conv10', layers: ['conv10'], cin: 512, cout: 10, k: 1, size: 1 },
];

function distinctShapes(): BenchShape[] {
  const byKey = new Map<string, BenchShape>();
  for (const l of ALL_LAYERS) {
    const key = `${l.cin},${l.cout},${l.k},${l.size}`;
    const seen = byKey.get(key);
    if (seen) seen.layers.push(...l.layers); else byKey.set(key, { ...l, layers: [...l.layers] });
  }
  return [...byKey.values()];
}

type Pass = 'forward' | 'dx' | 'dw' | 'bias';
type Impl = 'fast' | 'simple';

const PASSES: Record<Pass, Record<Impl, (t: { x: Tensor; w: Tensor; b: Tensor; dy: Tensor }, g: Conv2dGeometry) => Tensor>> = {
  forward: { fast: (t, g) => conv2dForward(t.x, t.w, t.b, g), simple: (t, g) => conv2dForwardSimple(t.x, t.w, t.b, g) },
  dx: { fast: (t, g) => conv2dBackwardData(t.dy, t.w, g), simple: (t, g) => conv2dBackwardDataSimple(t.dy, t.w, g) },
  dw: { fast: (t, g) => conv2dBackwardFilter(t.x, t.dy, g), simple: (t, g) => conv2dBackwardFilterSimple(t.x, t.dy, g) },
  bias: { fast: (t, g) => conv2dBiasGrad(t.dy, g), simple: (t, g) => conv2dBiasGradSimple(t.dy, g) },
};

/** Floating-point operations of a pass (multiply-add = 2; the bias gradient counts its additions). */
function flops(pass: Pass, g: Conv2dGeometry): number {
  const pixels = g.N * g.OH * g.OW;
  return pass === 'bias' ? pixels * g.O : 2 * pixels * g.O * g.C * g.KH * g.KW;
}

function arg(name: string, fallback: string): string {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
}

const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

async function main(): Promise<void> {
  const reps = Number(arg('reps', '5'));
  const impls = arg('impl', 'fast,simple').split(',') as Impl[];
  const formats = arg('format', 'NCHW,NHWC').split(',') as DataFormat[];
  const passes = arg('pass', 'forward,dx,dw,bias').split(',') as Pass[];
  const only = arg('only', '');
  const rt = await init();
  console.log(`adapter: ${rt.description.description || rt.description.device} (software: ${rt.description.software}), batch ${BATCH}, ${reps} timed runs after one warm-up`);
  console.log(['shape', 'format', 'pass', 'impl', 'min ms', 'median ms', 'max ms', 'GFLOP/s'].join('\t'));
  const medians = new Map<string, number>();
  for (const s of distinctShapes()) {
    if (only && !s.layers.some((l) => l.includes(only))) continue;
    for (const format of formats) {
      const xShape = format === 'NCHW' ? [BATCH, s.cin, s.size, s.size] : [BATCH, s.size, s.size, s.cin];
      const g = conv2dGeometry(xShape, [s.cout, s.cin, s.k, s.k], { padding: 'SAME', dataFormat: format });
      const t = {
        x: rand(xShape, { seed: 1, low: -1 }), w: rand([s.cout, s.cin, s.k, s.k], { seed: 2, low: -1 }),
        b: rand([s.cout], { seed: 3, low: -1 }), dy: rand(conv2dOutputShape(g), { seed: 4, low: -1 }),
      };
      for (const pass of passes) {
        for (const impl of impls) {
          const times: number[] = [];
          for (let r = 0; r <= reps; r++) {
            await rt.sync();
            const start = performance.now();
            tidy(() => { PASSES[pass][impl](t, g); });
            await rt.sync();
            if (r > 0) times.push(performance.now() - start);
          }
          const med = median(times);
          medians.set(`${s.name}|${format}|${pass}|${impl}`, med);
          console.log([
            s.name + (s.layers.length > 1 ? ` (+${s.layers.length - 1})` : ''), format, pass, impl,
            Math.min(...times).toFixed(2), med.toFixed(2), Math.max(...times).toFixed(2), (flops(pass, g) / med / 1e6).toFixed(2),
          ].join('\t'));
        }
      }
      for (const v of Object.values(t)) v.dispose();
    }
  }
  if (!only) {
    // One training step of every convolution layer (conv1's input needs no dx).
    console.log('\nall 26 convolutions of one batch-32 step, sum of medians (ms):');
    console.log(['format', 'impl', ...passes, 'total'].join('\t'));
    for (const format of formats) for (const impl of impls) {
      const perPass = passes.map((pass) => distinctShapes().reduce((sum, s) => {
        const count = pass === 'dx' ? s.layers.filter((l) => l !== 'conv1').length : s.layers.length;
        return sum + count * (medians.get(`${s.name}|${format}|${pass}|${impl}`) ?? 0);
      }, 0));
      console.log([format, impl, ...perPass.map((v) => v.toFixed(1)), perPass.reduce((a, b) => a + b, 0).toFixed(1)].join('\t'));
    }
  }
  shutdown();
}

await main();

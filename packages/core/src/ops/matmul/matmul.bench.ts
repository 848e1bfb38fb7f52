/**
 * Micro-benchmark (not a test): the register-tiled GEMM against the one-output-per-invocation oracle,
 * over a few tile shapes, at 1024³ and at 1×1-convolution shapes.
 *
 *   npx tsc -b packages/core && node packages/core/dist/ops/matmul/matmul.bench.js [reps]
 *
 * Each rep records one dispatch and waits for it with `await rt.sync()`, so a time includes one
 * dispatch overhead and one fence read (≈ tens of µs, negligible at these sizes).
 */
import { FAST_GEMM_TILE, type GemmTile } from '@squeeze/kernels-wgsl';
import { init, shutdown } from '../../runtime/global.js';
import { randn } from '../creation/creation.js';
import { allocTensor } from '../../tensor.js';
import { gemm, type GemmArgs, type GemmOptions } from './gemm.js';

const reps = Number(process.argv[2] ?? 5);

const TILE_CANDIDATES: GemmTile[] = [
  FAST_GEMM_TILE,
  { rows: 8, cols: 4, wg: 64, lanes: 'n' },
  { rows: 16, cols: 4, wg: 64, lanes: 'n' },
  { rows: 8, cols: 8, wg: 64, lanes: 'n' },
  { rows: 4, cols: 4, wg: 64, lanes: 'n' },
  { rows: 8, cols: 4, wg: 16, lanes: 'n' },
  { rows: 4, cols: 8, wg: 64, lanes: 'm' },
  { rows: 4, cols: 16, wg: 64, lanes: 'm' },
  { rows: 1, cols: 16, wg: 64, lanes: 'm' },
];

interface Problem { name: string; M: number; N: number; K: number; batch?: number; aBatchStride?: number; transA?: boolean; transB?: boolean }

const PROBLEMS: Problem[] = [
  { name: '1024³', M: 1024, N: 1024, K: 1024 },
  // NHWC-style 1×1 conv: [N·H·W, Cin]·[Cin, Cout] for a 32-image batch of 16×16 maps, 64 → 16 channels
  { name: 'conv1x1 [8192,64]·[64,16]', M: 32 * 16 * 16, N: 16, K: 64 },
  // NCHW-style 1×1 conv: per image W [Cout, Cin] · X [Cin, H·W], the weight shared by the batch
  { name: 'conv1x1 NCHW 32×[16,64]·[64,256]', M: 16, N: 256, K: 64, batch: 32, aBatchStride: 0 },
  // its weight gradient: dW = dY·Xᵀ per image, [16, 256]·[256, 64]
  { name: 'conv1x1 dW [16,256]·[64,256]ᵀ', M: 16, N: 64, K: 256, batch: 32, transB: true },
];

function stats(seconds: number[], flop: number): string {
  const g = seconds.map((s) => flop / s / 1e9).sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2).padStart(6);
  return `GFLOP/s min ${f(g[0]!)}  median ${f(g[Math.floor(g.length / 2)]!)}  max ${f(g[g.length - 1]!)}`;
}

async function main(): Promise<void> {
  const rt = await init();
  console.log(`device: ${rt.description.description || rt.description.device} (${rt.description.vendor}), ${reps} reps`);
  for (const p of PROBLEMS) {
    const batch = p.batch ?? 1;
    const aBatch = p.aBatchStride === 0 ? 1 : batch;
    const a = randn([aBatch * p.M * p.K], { seed: 1 });
    const b = randn([batch * p.K * p.N], { seed: 2 });
    const c = allocTensor([batch * p.M * p.N]);
    const args: GemmArgs = { ...p, a, b, c };
    const flop = 2 * p.M * p.N * p.K * batch;
    console.log(`\n${p.name} (${(flop / 1e9).toFixed(3)} GFLOP)`);
    const variants: Array<[string, GemmOptions]> = [
      ['simple (1 output / invocation)', { kernel: 'simple' }],
      ...TILE_CANDIDATES.map((tile, i): [string, GemmOptions] => [
        `tiled ${tile.rows}×${tile.cols}, wg ${tile.wg} along ${tile.lanes}${i === 0 ? ' (FAST_GEMM_TILE)' : ''}`, { tile },
      ]),
    ];
    for (const [name, opts] of variants) {
      gemm(rt, args, opts); // compile + warm up
      await rt.sync();
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        gemm(rt, args, opts);
        await rt.sync();
        times.push((performance.now() - t0) / 1000);
      }
      console.log(`  ${name.padEnd(44)} ${stats(times, flop)}`);
    }
    a.dispose(); b.dispose(); c.dispose();
  }
  shutdown();
}

await main();

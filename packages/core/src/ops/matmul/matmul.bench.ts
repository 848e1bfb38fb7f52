/**
 * Micro-benchmark (not a test): the register-tiled GEMM against the one-output-per-invocation oracle,
 * over a few tile shapes, at 1024³ and at 1×1-convolution shapes.
 *
 *   npx tsc -b packages/core && node packages/core/dist/ops/matmul/matmul.bench.js [reps]
 *
 * A sample records the dispatch(es) and waits for completion with `await rt.sync()`; variants are
 * interleaved sample by sample so that load from other jobs on a shared machine hits them alike.
 */
import type { GemmTile } from '@squeeze/kernels-wgsl';
import { init, shutdown } from '../../runtime/global.js';
import { randn } from '../creation/creation.js';
import { allocTensor } from '../../tensor.js';
import { defaultGemmTile, gemm, type GemmArgs, type GemmOptions } from './gemm.js';

const reps = Number(process.argv[2] ?? 7);

/** Alternatives to the default (`defaultGemmTile`: the tile and lane axis chosen per adapter and shape). */
const TILE_CANDIDATES: GemmTile[] = [];
for (const lanes of ['n', 'm'] as const) {
  for (const [rows, cols, wg] of [[8, 8, 16], [8, 8, 64], [4, 8, 16], [8, 4, 16], [16, 8, 16]] as const) TILE_CANDIDATES.push({ rows, cols, wg, lanes });
}

interface Problem { name: string; M: number; N: number; K: number; batch?: number; aBatchStride?: number; transA?: boolean; transB?: boolean }

const PROBLEMS: Problem[] = [
  { name: '1024³', M: 1024, N: 1024, K: 1024 },
  // NHWC-style 1×1 conv: [N·H·W, Cin]·[Cin, Cout] for a 32-image batch of 16×16 maps, 64 → 16 channels
  { name: 'conv1x1 [8192,64]·[64,16]', M: 32 * 16 * 16, N: 16, K: 64 },
  // NCHW-style 1×1 conv: per image W [Cout, Cin] · X [Cin, H·W], the weight shared by the batch
  { name: 'conv1x1 NCHW 32×[16,64]·[64,256]', M: 16, N: 256, K: 64, batch: 32, aBatchStride: 0 },
  // its gradients: dW = dY·Xᵀ per image ([16, 256]·[256, 64]), dX = Wᵀ·dY ([64, 16]·[16, 256])
  { name: 'conv1x1 dW 32×[16,256]·[64,256]ᵀ', M: 16, N: 64, K: 256, batch: 32, transB: true },
  { name: 'conv1x1 dX 32×[16,64]ᵀ·[16,256]', M: 64, N: 256, K: 16, batch: 32, transA: true, aBatchStride: 0 },
];

/** Dispatches per timed sample: small problems batch a few so the fence read stays negligible. */
const dispatchesPerSample = (flop: number) => (flop < 1e8 ? 10 : 1);

const fmt = (x: number) => x.toFixed(2).padStart(6);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;

function summary(gflops: number[]): string {
  const g = sorted(gflops);
  return `min ${fmt(g[0]!)}  median ${fmt(median(g))}  max ${fmt(g[g.length - 1]!)}`;
}

async function main(): Promise<void> {
  const rt = await init();
  console.log(`device: ${rt.description.description || rt.description.device}; ${reps} samples per variant, variants interleaved`);
  console.log('wall = GFLOP/s of elapsed time; cpu = GFLOP per CPU-second of this process (lavapipe\'s threads');
  console.log('included), which other jobs on the machine barely affect');
  for (const p of PROBLEMS) {
    const batch = p.batch ?? 1;
    const a = randn([(p.aBatchStride === 0 ? 1 : batch) * p.M * p.K], { seed: 1 });
    const b = randn([batch * p.K * p.N], { seed: 2 });
    const c = allocTensor([batch * p.M * p.N]);
    const args: GemmArgs = { ...p, a, b, c };
    const flop = 2 * p.M * p.N * p.K * batch;
    const per = dispatchesPerSample(flop);
    const d = defaultGemmTile(rt, p.M, p.N);
    const variants: Array<[string, GemmOptions]> = [
      ['simple (1 output / invocation)', { kernel: 'simple' }],
      [`default: ${d.rows}×${d.cols}, wg ${d.wg} along ${d.lanes}${d.subgroupB ? ', shared B' : ''}`, {}],
      ...TILE_CANDIDATES.map((tile): [string, GemmOptions] => [`tiled ${tile.rows}×${tile.cols}, wg ${tile.wg} along ${tile.lanes}`, { tile }]),
    ];
    for (const [, opts] of variants) gemm(rt, args, opts); // compile everything first
    await rt.sync();
    const wall = variants.map((): number[] => []);
    const cpu = variants.map((): number[] => []);
    for (let r = 0; r < reps; r++) {
      for (const [i, [, opts]] of variants.entries()) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let d = 0; d < per; d++) gemm(rt, args, opts);
        await rt.sync();
        const seconds = (performance.now() - t0) / 1000;
        const used = process.cpuUsage(cpu0);
        wall[i]!.push((per * flop) / seconds / 1e9);
        cpu[i]!.push((per * flop) / ((used.user + used.system) / 1e6) / 1e9);
      }
    }
    console.log(`\n${p.name}: ${(flop / 1e9).toFixed(3)} GFLOP${per > 1 ? `, ${per} dispatches per sample` : ''}`);
    variants.forEach(([name], i) => console.log(`  ${name.padEnd(42)} wall ${summary(wall[i]!)} | cpu median ${fmt(median(cpu[i]!))}`));
    a.dispose(); b.dispose(); c.dispose();
  }
  shutdown();
}

await main();

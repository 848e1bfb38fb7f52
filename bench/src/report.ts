import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BenchResult } from './bench.js';
import { squeezeNetConvLayers } from './shapes.js';
import { KERNEL_KINDS, type KernelKind } from './step.js';

/** A plain text table: the first column left-aligned, the others right-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fixed = (v: number, digits = 2): string => v.toFixed(digits);
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const KIND_TITLES: Record<KernelKind, string> = {
  conv: 'conv', pooling: 'pooling', batchNorm: 'batch norm', elementwise: 'element-wise', loss: 'loss', optimizer: 'optimizer', other: 'other',
};

/** The results as text tables, one section per part that ran. */
export function formatBench(r: BenchResult): string {
  const adapter = r.adapter.description || r.adapter.device;
  const out: string[] = [
    `SqueezeNet bench · ${adapter} · batch ${r.batchSize} · ${r.reps} timed reps · ${r.date}`,
    `Node ${r.versions.node}, webgpu ${r.versions.webgpu}; kernel times: ${r.kernelClock === 'gpu-timestamps' ? 'GPU timestamps (sum of kernel times)' : 'wall clock'}` +
      `, after ${r.kernelWarmups} warm-ups${r.filter !== null ? `; --filter '${r.filter}'` : ''}`,
  ];
  const env = Object.entries(r.environment);
  if (env.length > 0) out.push(`Environment: ${env.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (r.gemm.length > 0) {
    out.push('', 'GEMM ceiling: the fast GEMM kernel, C[M,N] = A[M,K]·B[K,N], at each conv pass\'s sizes (P = batch·H·W pixels, O = out channels, I = in channels·kh·kw; forward P×O×I, backward-data P×I×O, backward-filter O×I×P)');
    out.push(textTable(
      ['shape', 'pass', 'M', 'N', 'K', 'min ms', 'median ms', 'max ms', 'GFLOP/s'],
      r.gemm.map((g) => [g.shape, g.pass, String(g.M), String(g.N), String(g.K), ms(g.minMs), ms(g.medianMs), ms(g.maxMs), fixed(g.gflops)]),
    ));
  }
  if (r.convs.length > 0) {
    out.push('', 'Convolutions: the fast kernels of each pass; GFLOP/s = the direct convolution\'s 2·M·N·K ÷ time (effective for Winograd); ×ceiling = GFLOP/s ÷ the GEMM ceiling of the pass\'s M,N,K; NHWC/NCHW = median ratio (< 1: NHWC faster)');
    out.push(textTable(
      ['shape', 'pass', 'layout', 'algorithm', 'min ms', 'median ms', 'max ms', 'GFLOP/s', '×ceiling', 'NHWC/NCHW'],
      r.convs.map((c) => [
        c.shape + (c.layers.length > 1 ? ` (+${c.layers.slice(1).map((l) => l.split('/')[0]).join(',')})` : ''),
        c.pass, c.layout, c.algorithm, ms(c.minMs), ms(c.medianMs), ms(c.maxMs), fixed(c.gflops), fixed(c.ratioToCeiling),
        c.nhwcOverNchw === null ? '' : fixed(c.nhwcOverNchw),
      ]),
    ));
  }
  if (r.convStepTotals.length > 0) {
    out.push('', `All ${squeezeNetConvLayers().length} convolutions of one training step at these medians (shared shapes counted per layer, no backward-data for conv1), ms`);
    out.push(textTable(
      ['layout', 'forward', 'backward-data', 'backward-filter', 'total'],
      r.convStepTotals.map((t) => [t.layout, ms(t.forwardMs), ms(t.backwardDataMs), ms(t.backwardFilterMs), ms(t.totalMs)]),
    ));
  }
  if (r.steps.length > 0) {
    out.push('', 'Training step (forward, loss, backward, Adam), wall clock from encoding to the loss read back. A fresh model per layout: ' +
      `its pipelines compiled in parallel first (compile), then its first step (cold; cold/warm = cold ÷ median), then ${r.stepWarmups} warm-ups`);
    out.push('Kernels: dispatches of one step (forward + loss, backward, optimizer = total) and of one evaluation batch of the same size');
    out.push(textTable(
      ['layout', 'batch', 'compile ms', 'pipelines', 'cold ms', 'cold/warm', 'min ms', 'median ms', 'max ms', 'images/s',
        'kernels fwd', 'bwd', 'optim', 'step', 'eval'],
      r.steps.map((s) => [
        s.layout, String(s.batchSize), ms(s.compileMs), String(s.pipelinesCompiled), ms(s.coldMs), fixed(s.coldMs / s.medianMs),
        ms(s.minMs), ms(s.medianMs), ms(s.maxMs), fixed(s.imagesPerSecond, 1),
        String(s.kernelCounts.forward), String(s.kernelCounts.backward), String(s.kernelCounts.optimizer), String(s.kernelCounts.total),
        String(s.kernelCounts.evaluation),
      ]),
    ));
    const pt = r.pytorch;
    if (pt?.available) {
      out.push('', `PyTorch ${pt.torchVersion} (${pt.python}, ${pt.threads} threads, OMP_WAIT_POLICY=${pt.ompWaitPolicy}, channels_last, Adam; ` +
        `${pt.parameters === pt.ourParameters ? `the same network: ${pt.parameters} parameters, ours ${pt.ourParameters}` : `A DIFFERENT NETWORK: ${pt.parameters} parameters, ours ${pt.ourParameters}`}), ` +
        'timed in the same rounds as the steps above, taking turns');
      out.push(textTable(
        ['baseline', 'batch', 'min ms', 'median ms', 'max ms', 'images/s', `ours (${pt.bestLayout}) ÷ PyTorch`],
        [['PyTorch CPU', String(r.batchSize), ms(pt.minMs), ms(pt.medianMs), ms(pt.maxMs), fixed((r.batchSize * 1000) / pt.medianMs, 1), fixed(pt.ratio)]],
      ));
    } else if (pt) {
      out.push('', `PyTorch: not available — ${pt.reason}`);
    }
    const traced = r.steps.filter((s) => s.traced !== null);
    if (traced.length > 0) {
      out.push('', 'GPU time of one traced step by kind of kernel, ms (% of the kernels\' total); wall = that step\'s wall clock');
      out.push(textTable(
        ['layout', ...KERNEL_KINDS.map((k) => KIND_TITLES[k]), 'GPU total', 'kernels', 'wall ms'],
        traced.map((s) => {
          const t = s.traced!;
          return [s.layout, ...KERNEL_KINDS.map((k) => `${ms(t.byKind[k].ms)} (${(100 * t.byKind[k].ms / t.totalMs).toFixed(0)}%)`), ms(t.totalMs), String(t.kernels), ms(t.wallMs)];
        }),
      ));
    }
  }
  if (r.stepMemory !== null) {
    const { before: b, after: a, flat } = r.stepMemory;
    out.push('', `Memory before → after the timed steps of ${r.steps.map((s) => s.layout).join(' and ')} (flat: same live tensors, GPU buffers created and pool high-water)`);
    out.push(textTable(
      ['process RSS', 'live tensors', 'GPU bytes in use', 'GPU bytes pooled', 'pool high-water', 'buffers created', 'flat'],
      [[
        `${mib(b.rssBytes)} → ${mib(a.rssBytes)}`, `${b.liveTensors} → ${a.liveTensors}`, `${mib(b.bytesInUse)} → ${mib(a.bytesInUse)}`,
        `${mib(b.bytesPooled)} → ${mib(a.bytesPooled)}`, `${mib(b.poolHighWater)} → ${mib(a.poolHighWater)}`, `${b.buffersCreated} → ${a.buffersCreated}`, flat ? 'yes' : 'NO',
      ]],
    ));
  }
  out.push('', `(${r.durationS.toFixed(0)} s)`);
  return `${out.join('\n')}\n`;
}

/** Writes every figure as JSON (parent directories created). */
export function writeBenchJson(file: string, r: BenchResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}

import { formatBench, runBench, writeBenchJson } from '@squeeze/bench';
import { defineCommand } from '../flags.js';
import { batchSizeFlag } from './common.js';

export default defineCommand({
  name: 'bench',
  summary: 'Benchmark kernels and training steps per data layout',
  description:
    'Times the fast GEMM at the size of every SqueezeNet convolution pass (the ceilings), every distinct convolution ' +
    '(forward, backward-data, backward-filter; a shape\'s rows and ceilings taking turns) and whole training steps ' +
    '(pipelines compiled first and timed apart, then the cold first step, then warm ones), with a GPU-time ' +
    'split of one traced step and memory before and after. Rows are named gemm <shape> <pass>, ' +
    "conv <shape> <pass> <layout> and step <layout> (e.g. 'conv fire2/expand3x3 backward-filter NHWC'); " +
    '--filter keeps those containing its text. A full run at batch 32 takes ~30 s on llvmpipe with Mesa\'s shader cache warm, minutes when its kernels must compile.',
  flags: {
    json: { type: 'string', metavar: 'FILE', help: "Also write the results as JSON to FILE (input of 'squeeze plot --bench')" },
    filter: { type: 'string', metavar: 'TEXT', help: 'Run only the benchmarks whose name contains TEXT' },
    reps: { type: 'int', default: 10, min: 1, help: 'Timed repetitions per benchmark' },
    layout: { type: 'enum', choices: ['both', 'NCHW', 'NHWC'], default: 'both', help: 'Data layout(s) to benchmark' },
    batch_size: batchSizeFlag,
  },
  async run(f) {
    const result = await runBench({
      batchSize: f.batch_size,
      reps: f.reps,
      layouts: f.layout === 'both' ? ['NCHW', 'NHWC'] : [f.layout],
      filter: f.filter,
      // Progress on stderr keeps stdout to the results table.
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(formatBench(result));
    if (f.json !== undefined) {
      writeBenchJson(f.json, result);
      process.stderr.write(`wrote ${f.json}\n`);
    }
    return 0;
  },
});

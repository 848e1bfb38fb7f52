import { defineCommand } from '../flags.js';
import { batchSizeFlag } from './common.js';

export default defineCommand({
  name: 'bench',
  summary: 'Benchmark kernels and training steps per data layout',
  flags: {
    json: { type: 'string', metavar: 'FILE', help: "Also write the results as JSON to FILE (input of 'squeeze plot --bench')" },
    filter: { type: 'string', metavar: 'TEXT', help: 'Run only the benchmarks whose name contains TEXT' },
    reps: { type: 'int', default: 10, min: 1, help: 'Timed repetitions per benchmark' },
    layout: { type: 'enum', choices: ['both', 'NCHW', 'NHWC'], default: 'both', help: 'Data layout(s) to benchmark' },
    batch_size: batchSizeFlag,
  },
  run() {
    throw new Error('not wired yet');
  },
});

import { join } from 'node:path';
import { MODEL_DIR_LAYOUT, plotBench, plotTraining } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { modelDirFlag } from './common.js';

export default defineCommand({
  name: 'plot',
  summary: 'Draw the accuracy and loss curves of a training run (or bench results) as PNG and SVG',
  description:
    'Reads the TensorBoard event files in --model_dir (train) and <model_dir>/eval (eval) and writes ' +
    'accuracy.png/.svg and loss.png/.svg. With --bench it plots bench results instead: ' +
    'bench_step_time.png/.svg and bench_throughput.png/.svg.',
  flags: {
    model_dir: modelDirFlag,
    out: { type: 'string', metavar: 'DIR', defaultHelp: '<model_dir>/plots', help: 'Directory for the charts' },
    bench: { type: 'string', metavar: 'FILE', help: "Plot these 'squeeze bench --json FILE' results instead of the training run" },
  },
  run(flags) {
    const outDir = flags.out ?? join(flags.model_dir, MODEL_DIR_LAYOUT.plotsDir);
    const written = flags.bench === undefined ? plotTraining(flags.model_dir, outDir) : plotBench(flags.bench, outDir);
    for (const path of written) console.log(`wrote ${path}`);
  },
});

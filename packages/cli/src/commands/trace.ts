import { kernelCountLine, kernelTable, traceTraining } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { adapterFlag, batchSizeFlag, dataDirFlag, dataFormatFlag } from './common.js';

export default defineCommand({
  name: 'trace',
  summary: 'Time training steps kernel by kernel and write a Chrome trace (cifar_trace_*.json)',
  description:
    'Traces a freshly initialised model (your checkpoints are never read or deleted), on batches of the ' +
    'dataset in --data_dir or on random images when none is prepared. Open the files in chrome://tracing or Perfetto.',
  flags: {
    steps: { type: 'int', default: 10, min: 1, help: 'Training steps to trace' },
    batch_size: batchSizeFlag,
    data_format: dataFormatFlag,
    out: { type: 'string', default: '.', metavar: 'DIR', help: 'Directory for the trace files' },
    data_dir: dataDirFlag,
    adapter: adapterFlag,
  },
  async run(f) {
    const r = await traceTraining({
      steps: f.steps, batchSize: f.batch_size, dataFormat: f.data_format, out: f.out, dataDir: f.data_dir, adapter: f.adapter,
    });
    console.log(`\n${kernelCountLine(r.kernels, f.data_format, f.batch_size)}`);
    if (r.timestamps) {
      const { from, to } = r.tableSteps;
      const steps = from === to ? `step ${from}` : `steps ${from}–${to}`;
      if (from > 1) console.log(`\nThe first step (${r.firstStepGpuMs.toFixed(2)} ms of GPU time, shaders run for the first time) is left out of the tables.`);
      console.log(`\nGPU time by kernel over ${steps}:`);
      console.log(kernelTable(r.byKernel));
      console.log(`\nGPU time by layer and kernel over ${steps}:`);
      console.log(kernelTable(r.byName));
    }
    return 0;
  },
});

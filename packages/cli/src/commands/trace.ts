import { defineCommand } from '../flags.js';
import { batchSizeFlag, dataFormatFlag } from './common.js';

export default defineCommand({
  name: 'trace',
  summary: 'Time training steps kernel by kernel and write a Chrome trace (cifar_trace_*.json)',
  flags: {
    steps: { type: 'int', default: 10, min: 1, help: 'Training steps to trace' },
    batch_size: batchSizeFlag,
    data_format: dataFormatFlag,
    out: { type: 'string', default: '.', metavar: 'DIR', help: 'Directory for the trace files' },
    model_dir: {
      type: 'string',
      metavar: 'DIR',
      defaultHelp: 'freshly initialised weights',
      help: 'Start from the newest checkpoint in this directory',
    },
  },
  run() {
    throw new Error('not wired yet');
  },
});

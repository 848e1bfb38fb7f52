import { cleanModelDir } from '../clean.js';
import { defineCommand } from '../flags.js';
import { modelDirFlag } from './common.js';

export default defineCommand({
  name: 'clean',
  summary: 'Remove checkpoints, event files, traces, plots and exported models; keep the dataset',
  description:
    'Removes <model_dir>/checkpoints/, <model_dir>/models/, <model_dir>/plots/, events.out.tfevents.* in ' +
    '<model_dir> and <model_dir>/eval, and cifar_trace_*.json in <model_dir>. The dataset (cifar10/, ' +
    'fashion-mnist/, *_images/, labels.txt, archives) is never touched.',
  flags: {
    model_dir: modelDirFlag,
  },
  run(flags) {
    const removed = cleanModelDir(flags.model_dir);
    for (const path of removed) console.log(`removed ${path}`);
    if (removed.length === 0) console.log(`Nothing to clean in ${flags.model_dir}: no checkpoints, event files, traces, plots or exported models.`);
  },
});

import { cleanModelDir } from '../clean.js';
import { defineCommand } from '../flags.js';
import { modelDirFlag } from './common.js';

export default defineCommand({
  name: 'clean',
  summary: 'Remove checkpoints, event files, traces, plots and exported models; keep the dataset',
  description:
    'Removes <model_dir>/checkpoints/, <model_dir>/models/, <model_dir>/plots/, events.out.tfevents.* in ' +
    '<model_dir> and <model_dir>/eval, and cifar_trace_*.json in <model_dir>. The dataset (cifar10/, ' +
    'fashion-mnist/, *_images/, labels.txt, archives) is never touched, nor anything a symbolic link points to.',
  flags: {
    model_dir: modelDirFlag,
  },
  run(flags) {
    const { removed, keptLinks } = cleanModelDir(flags.model_dir);
    for (const path of removed) console.log(`removed ${path}`);
    for (const link of keptLinks) console.error(`kept ${link}: a symbolic link, which clean never follows out of --model_dir; remove it by hand if you mean to`);
    if (removed.length === 0) console.log(`Nothing to clean in ${flags.model_dir}: no checkpoints, event files, traces, plots or exported models.`);
  },
});

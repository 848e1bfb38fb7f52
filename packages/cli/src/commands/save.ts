import { saveModel } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { modelDirFlag } from './common.js';

export default defineCommand({
  name: 'save',
  summary: 'Export the newest checkpoint in --model_dir as a model under <model_dir>/models/',
  flags: {
    model_dir: modelDirFlag,
  },
  run(f) {
    const r = saveModel(f.model_dir, (m) => console.error(m));
    console.log(`Saved the model of step ${r.step}:`);
    for (const file of [r.weights, r.onnx, r.labels]) console.log(`  ${file}`);
    return 0;
  },
});

import { Classifier, listImages, predictionLine } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { batchSizeFlag, dataFormatFlag, modelDirFlag } from './common.js';

export default defineCommand({
  name: 'predict',
  summary: 'Classify an image with the trained model',
  flags: {
    model_dir: modelDirFlag,
    data_format: dataFormatFlag,
    image: { type: 'string', metavar: 'PATH', required: true, help: 'PNG image to classify (any size; resized to 32x32)' },
    batch_size: batchSizeFlag,
    json: { type: 'bool', help: 'Print the predictions as JSON' },
  },
  async run(f) {
    const files = listImages(f.image);
    const classifier = await Classifier.load(f.model_dir, { dataFormat: f.data_format });
    try {
      const { predictions, failures } = await classifier.predictFiles(files, f.batch_size);
      for (const p of predictions) {
        console.log(f.json
          ? JSON.stringify({ path: p.path, label: p.label, index: p.index, probabilities: p.probabilities, logits: p.logits })
          : predictionLine(p));
      }
      for (const bad of failures) console.error(`squeeze predict: ${bad.error}`);
      if (failures.length > 0) {
        // For a single image, its own error line says it all.
        if (files.length > 1) console.error(`squeeze predict: ${failures.length} of ${files.length} images could not be read`);
        return 1;
      }
      return 0;
    } finally {
      classifier.dispose();
    }
  },
});

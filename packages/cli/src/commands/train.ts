import { DATASET_NAMES, train } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { progressLine } from '../progress.js';
import { adapterFlag, batchSizeFlag, dataDirFlag, dataFormatFlag, modelDirFlag } from './common.js';

export default defineCommand({
  name: 'train',
  summary: 'Train SqueezeNet, logging TensorBoard events and keeping checkpoints in --model_dir',
  description:
    'Resumes from the newest checkpoint in --model_dir when there is one. Training images are ' +
    'shuffled with a full permutation per epoch (the TensorFlow sample used a 1500-image shuffle buffer).',
  flags: {
    model_dir: modelDirFlag,
    data_dir: dataDirFlag,
    dataset: {
      type: 'enum',
      choices: DATASET_NAMES,
      defaultHelp: "the one 'squeeze setup' prepared in --data_dir",
      help: 'Dataset to train on',
    },
    batch_size: batchSizeFlag,
    data_format: dataFormatFlag,
    max_train_steps: { type: 'int', default: 1801, min: 1, help: 'Stop after this many training steps in total' },
    learning_rate: { type: 'float', default: 0.001, min: 0, exclusiveMin: true, help: 'Learning rate' },
    summary_interval: { type: 'int', default: 1, min: 1, help: 'Log train loss and accuracy every this many steps' },
    checkpoint_interval: { type: 'int', default: 100, min: 1, help: 'Save a checkpoint every this many steps' },
    validation_interval: { type: 'int', default: 100, min: 1, help: 'Evaluate on the test split every this many steps' },
    keep_last_n_checkpoints: { type: 'int', default: 3, min: 1, help: 'Checkpoints to keep; older ones are deleted' },
    seed: { type: 'int', default: 1337, min: 0, help: 'Seed for weight initialisation and shuffling' },
    allow_dataset_change: { type: 'bool', help: 'Resume a checkpoint trained on another dataset (or other contents) instead of refusing it' },
    adapter: adapterFlag,
  },
  async run(f) {
    // First Ctrl-C: finish the current step, write a checkpoint, exit 130. Second: exit at once
    // (checkpoints are written atomically, so nothing on disk is left half-written).
    const stop = new AbortController();
    const onSigint = (): void => {
      if (stop.signal.aborted) { process.stderr.write('\nInterrupted again: exiting now.\n'); process.exit(130); }
      process.stderr.write('\nInterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit now)...\n');
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    const progress = progressLine();
    try {
      const r = await train({
        modelDir: f.model_dir, dataDir: f.data_dir, dataset: f.dataset, batchSize: f.batch_size, dataFormat: f.data_format,
        maxTrainSteps: f.max_train_steps, learningRate: f.learning_rate, summaryInterval: f.summary_interval,
        checkpointInterval: f.checkpoint_interval, validationInterval: f.validation_interval,
        keepLastNCheckpoints: f.keep_last_n_checkpoints, seed: f.seed, adapter: f.adapter, allowDatasetChange: f.allow_dataset_change,
        log: (line) => { progress.clear(); console.log(line); },
        info: (line) => { progress.clear(); console.error(line); },
        progress: progress.update,
        signal: stop.signal,
      });
      progress.clear();
      if (r.stopped) {
        console.error(`Stopped at step ${r.globalStep}; checkpoint written to ${r.checkpoint}. Run the same command to resume.`);
        return 130;
      }
      return 0;
    } finally {
      progress.clear();
      process.off('SIGINT', onSigint);
    }
  },
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { memory } from '@squeeze/core';
import { CheckpointError, CHECKPOINT_DIR } from '../checkpoint/checkpoint.js';
import { makeCifarFixture, setupData } from '../data/index.js';
import { makeTempDir } from '../data/test-helpers.js';
import { encodeSafetensors, readSafetensors } from '../formats/index.js';
import { train, type TrainOptions } from '../train/train.js';

/** A checkpoint that cannot be resumed is reported by name, and `train()` frees what it allocated. */
describe('reliability: train() refusing a checkpoint', function () {
  this.timeout(120_000);
  let root: string;
  let options: TrainOptions;
  let checkpoint: string;
  let original: Buffer;

  before(async () => {
    root = makeTempDir('failed-resume');
    const archive = await makeCifarFixture(root, { trainPerClass: 1, testPerClass: 1 });
    await setupData({ dataDir: path.join(root, 'data'), from: archive, progress: false, log: () => {} });
    options = {
      modelDir: path.join(root, 'model'), dataDir: path.join(root, 'data'), batchSize: 2, dataFormat: 'NCHW', maxTrainSteps: 1,
      learningRate: 1e-3, summaryInterval: 1, checkpointInterval: 1, validationInterval: 1000, keepLastNCheckpoints: 1, seed: 3,
      log: () => {}, info: () => {},
    };
    await train(options);
    checkpoint = path.join(options.modelDir, CHECKPOINT_DIR, 'model.ckpt-000001.safetensors');
    original = fs.readFileSync(checkpoint);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  afterEach(() => fs.writeFileSync(checkpoint, original));

  const cases: Array<[string, (st: ReturnType<typeof readSafetensors>) => Uint8Array, RegExp]> = [
    ['another architecture', (st) => {
      const meta = JSON.parse(st.metadata['squeeze']!) as Record<string, unknown>;
      return encodeSafetensors(st.tensors, { squeeze: JSON.stringify({ ...meta, architecture: 'resnet18' }) });
    }, /checkpoint is for architecture 'resnet18'/],
    ['optimizer state for a parameter the model lacks', (st) => encodeSafetensors(
      { ...st.tensors, 'optimizer.exp_avg.extra.weight': { dtype: 'F32', shape: [1], data: Float32Array.of(0) } }, st.metadata,
    ), /cannot resume from it \(optimizer loadStateDict: state for unknown parameter 'extra\.weight'\)/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, async () => {
      fs.writeFileSync(checkpoint, edit(readSafetensors(original)));
      const live = memory().liveTensors;
      await assert.rejects(train({ ...options, maxTrainSteps: 2 }), (e: unknown) => e instanceof CheckpointError && e.message.startsWith(checkpoint) && message.test(e.message));
      // At most equal: the collector may meanwhile reclaim tensors other suites dropped without dispose().
      assert.ok(memory().liveTensors <= live, `${memory().liveTensors - live} tensors of the model and optimizer left alive`);
    });
  }
});

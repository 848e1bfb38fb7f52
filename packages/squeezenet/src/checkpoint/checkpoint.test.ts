import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from '../data/test-helpers.js';
import { checkCompatible, CheckpointError, findLatestCheckpoint, readCheckpoint, writeCheckpoint, CHECKPOINT_DIR, type CheckpointMeta } from './checkpoint.js';

const meta = (step: number): CheckpointMeta => ({
  architecture: 'squeezenet_cifar', globalStep: step, dataFormat: 'NCHW', seed: 1, dataOrder: { seed: 1, epoch: 0, position: step },
  dataset: 'cifar10', classes: ['a', 'b'], optimizer: { name: 'adam', step },
});
const content = (step: number) => ({
  meta: meta(step),
  model: { 'w': { shape: [2, 2], data: Float32Array.of(step, 1, 2, 3) } },
  optimizer: { 'exp_avg.w': { shape: [2, 2], data: Float32Array.of(0, 0, 0, step) } },
});

describe('checkpoints', () => {
  let dir: string;
  beforeEach(() => { dir = makeTempDir('ckpt'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips tensors, optimizer state and metadata; keeps only the last N', () => {
    for (const s of [100, 200, 300, 400]) writeCheckpoint(dir, content(s), 3);
    const files = fs.readdirSync(path.join(dir, CHECKPOINT_DIR)).sort();
    assert.deepEqual(files, ['checkpoint.json', 'model.ckpt-000200.safetensors', 'model.ckpt-000300.safetensors', 'model.ckpt-000400.safetensors']);
    const c = findLatestCheckpoint(dir)!;
    assert.equal(c.meta.globalStep, 400);
    assert.deepEqual([...c.model['w']!.data], [400, 1, 2, 3]);
    assert.deepEqual([...c.optimizer['exp_avg.w']!.data], [0, 0, 0, 400]);
  });

  it('finds a complete checkpoint written just before a crash that left the index behind', () => {
    writeCheckpoint(dir, content(1), 3);
    const index = fs.readFileSync(path.join(dir, CHECKPOINT_DIR, 'checkpoint.json'));
    writeCheckpoint(dir, content(2), 3);
    fs.writeFileSync(path.join(dir, CHECKPOINT_DIR, 'checkpoint.json'), index); // as if killed before the index update
    assert.equal(findLatestCheckpoint(dir)!.meta.globalStep, 2);
  });

  it('ignores temp-file debris and reports corrupt files by name', () => {
    writeCheckpoint(dir, content(5), 3);
    fs.writeFileSync(path.join(dir, CHECKPOINT_DIR, 'model.ckpt-000009.safetensors.tmp-1-ab'), 'half');
    fs.writeFileSync(path.join(dir, CHECKPOINT_DIR, 'model.ckpt-000010.safetensors'), 'garbage');
    const warnings: string[] = [];
    assert.equal(findLatestCheckpoint(dir, (w) => warnings.push(w))!.meta.globalStep, 5);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /model\.ckpt-000010\.safetensors/);
    assert.throws(() => readCheckpoint(path.join(dir, CHECKPOINT_DIR, 'model.ckpt-000010.safetensors')), CheckpointError);
  });

  it('rejects a checkpoint of another architecture or shape, naming the tensor', () => {
    writeCheckpoint(dir, content(1), 3);
    const c = findLatestCheckpoint(dir)!;
    assert.throws(() => checkCompatible(c, { w: [2, 2] }, 'resnet'), /architecture 'squeezenet_cifar', not 'resnet'/);
    assert.throws(() => checkCompatible(c, { w: [4] }, 'squeezenet_cifar'), /'w' has shape \[2,2\], the model needs \[4\]/);
    assert.throws(() => checkCompatible(c, { v: [1] }, 'squeezenet_cifar'), /'v' is missing/);
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeCifarFixture, setupData } from '../data/index.js';
import { makeTempDir } from '../data/test-helpers.js';
import { readEvents, readSafetensors } from '../formats/index.js';
import { findLatestCheckpoint, CHECKPOINT_DIR, readCheckpoint } from '../checkpoint/checkpoint.js';
import { SqueezeNetCifar, FIRE_SIZES } from '../model/squeezenet.js';
import { train, type TrainOptions } from './train.js';

const TRAIN_LINE = /^Train Step \d+ *:  \d\.\d+(e-\d+)?$/;
const EVAL_LINE = /^Evaluation Step \d+ *:  \d\.\d+(e-\d+)?$/;

/** The documented parameter names and shapes (PyTorch layout) of squeezenet_cifar. */
function documentedShapes(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const convBn = (name: string, o: number, i: number, k: number): void => {
    out[`${name}.weight`] = [o, i, k, k];
    for (const b of ['bias', 'running_mean', 'running_var']) out[`${name}.bn.${b}`] = [o];
  };
  convBn('conv1', 96, 3, 2);
  let c = 96;
  FIRE_SIZES.forEach(([s, e], i) => {
    convBn(`fire${i + 2}.squeeze`, s, c, 1);
    convBn(`fire${i + 2}.expand1x1`, e, s, 1);
    convBn(`fire${i + 2}.expand3x3`, e, s, 3);
    c = 2 * e;
  });
  out['conv10.weight'] = [10, 512, 1, 1];
  out['conv10.bias'] = [10];
  return out;
}

describe('SqueezeNet on a CIFAR-10-format fixture', function () {
  // A test's first training in a layout compiles the model's pipelines with an empty shader cache:
  // close to 8 minutes on a loaded 2-core machine while the other test worker compiles too.
  this.timeout(900_000);
  let root: string;
  let dataDir: string;
  const base = (): TrainOptions => ({
    modelDir: path.join(root, 'model'), dataDir, batchSize: 8, dataFormat: 'NCHW', maxTrainSteps: 4,
    learningRate: 0.001, summaryInterval: 1, checkpointInterval: 2, validationInterval: 3, keepLastNCheckpoints: 2,
    seed: 1337, evalBatchSize: 50, log: () => {}, info: () => {},
  });

  before(async () => {
    root = makeTempDir('train');
    dataDir = path.join(root, 'data');
    const archive = await makeCifarFixture(root, { trainPerClass: 8, testPerClass: 5 });
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('has the documented 727,594 trainable parameters with PyTorch names and shapes', () => {
    const model = new SqueezeNetCifar({ dataFormat: 'NCHW', seed: 1 });
    let trainable = 0;
    for (const p of model.parameters()) trainable += p.size;
    assert.equal(trainable, 727_594);
    const shapes = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape]]));
    assert.deepEqual(shapes, documentedShapes());
    model.dispose();
  });

  it('trains, prints the sample lines, writes events and atomic checkpoints, then resumes exactly', async () => {
    const lines: string[] = [];
    const first = await train({ ...base(), log: (l) => lines.push(l) });
    assert.equal(first.globalStep, 4);
    assert.deepEqual(lines.filter((l) => l.startsWith('Evaluation')).map((l) => l.split(':')[0]!.trim()), ['Evaluation Step 0', 'Evaluation Step 3']);
    assert.equal(lines.filter((l) => l.startsWith('Train')).length, 4);
    for (const l of lines) assert.ok(TRAIN_LINE.test(l) || EVAL_LINE.test(l), `unexpected line '${l}'`);

    const ckptDir = path.join(root, 'model', CHECKPOINT_DIR);
    const files = fs.readdirSync(ckptDir).filter((f) => f.endsWith('.safetensors')).sort();
    assert.deepEqual(files, ['model.ckpt-000002.safetensors', 'model.ckpt-000004.safetensors']);
    const st = readSafetensors(path.join(ckptDir, files[1]!));
    const want = documentedShapes();
    for (const [name, shape] of Object.entries(want)) assert.deepEqual(st.tensors[name]?.shape, shape, name);
    assert.ok(Object.keys(st.tensors).some((k) => k.startsWith('optimizer.exp_avg.')), 'Adam state saved');
    assert.equal(JSON.parse(st.metadata['squeeze']!).globalStep, 4);

    const events = fs.readdirSync(path.join(root, 'model')).filter((f) => f.startsWith('events.out.tfevents'));
    assert.equal(events.length, 1);
    const decoded = readEvents(path.join(root, 'model', events[0]!));
    const tags = new Set(decoded.flatMap((e) => e.scalars?.map((s) => s.tag) ?? []));
    assert.deepEqual([...tags].sort(), ['accuracy', 'loss']);
    assert.ok(decoded.some((e) => e.graphDef && e.graphDef.nodes.some((n) => n.name === 'fire3/expand3x3/conv')), 'graph with scoped names');
    const evalEvents = fs.readdirSync(path.join(root, 'model', 'eval'));
    assert.equal(evalEvents.length, 1);

    // Continue to 6 steps from the checkpoint, and compare with 6 uninterrupted steps.
    const resumedLines: string[] = [];
    const resumed = await train({ ...base(), maxTrainSteps: 6, log: (l) => resumedLines.push(l) });
    assert.equal(resumed.startStep, 4);
    assert.equal(resumedLines.filter((l) => l.startsWith('Train')).length, 2);
    const straightDir = path.join(root, 'straight');
    await train({ ...base(), modelDir: straightDir, maxTrainSteps: 6 });
    const a = findLatestCheckpoint(path.join(root, 'model'))!;
    const b = findLatestCheckpoint(straightDir)!;
    assert.equal(a.meta.globalStep, 6);
    assert.equal(b.meta.globalStep, 6);
    for (const name of Object.keys(want)) {
      const x = a.model[name]!.data;
      const y = b.model[name]!.data;
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-5 + 1e-4 * Math.abs(y[i]!), `${name}[${i}]: resumed ${x[i]} vs straight ${y[i]}`);
    }

    // Already done: says so and does nothing.
    const again = await train({ ...base(), maxTrainSteps: 6 });
    assert.equal(again.alreadyDone, true);
  });

  it('a checkpoint saved in NHWC resumes in NCHW (weights are stored layout-independent)', async () => {
    const dir = path.join(root, 'layouts');
    await train({ ...base(), modelDir: dir, dataFormat: 'NHWC', maxTrainSteps: 2 });
    const r = await train({ ...base(), modelDir: dir, dataFormat: 'NCHW', maxTrainSteps: 3 });
    assert.equal(r.startStep, 2);
    assert.equal(readCheckpoint(r.checkpoint!).meta.dataFormat, 'NCHW');
  });

  it('skips a corrupt newest checkpoint and resumes from the previous good one', async () => {
    const dir = path.join(root, 'corrupt');
    await train({ ...base(), modelDir: dir, maxTrainSteps: 4 });
    const newest = path.join(dir, CHECKPOINT_DIR, 'model.ckpt-000004.safetensors');
    fs.truncateSync(newest, 1000);
    const warnings: string[] = [];
    const latest = findLatestCheckpoint(dir, (w) => warnings.push(w));
    assert.equal(latest?.meta.globalStep, 2);
    assert.ok(warnings.some((w) => w.includes('model.ckpt-000004')), 'the corrupt file is named');
  });
});

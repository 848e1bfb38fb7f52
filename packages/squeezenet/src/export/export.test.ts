import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeImageFile, makeCifarFixture, setupData } from '../data/index.js';
import { makeTempDir } from '../data/test-helpers.js';
import { decodeOnnxModel, readSafetensors } from '../formats/index.js';
import { train } from '../train/train.js';
import { Classifier, listImages, predictionLine } from '../predict/predict.js';
import { saveModel, ExportError, readLabels } from './save.js';
import { squeezeNetStateShapes } from './shapes.js';
import { SqueezeNetCifar } from '../model/squeezenet.js';

describe('squeeze save and predict', function () {
  this.timeout(600_000);
  let root: string;
  let modelDir: string;
  let imagesDir: string;

  before(async () => {
    root = makeTempDir('export');
    const dataDir = path.join(root, 'data');
    modelDir = path.join(root, 'model');
    const archive = await makeCifarFixture(root, { trainPerClass: 6, testPerClass: 2 });
    await setupData({ dataDir, from: archive, progress: false, log: () => {} });
    imagesDir = path.join(dataDir, 'cifar10_images', 'test');
    // A few steps so batch-norm running statistics differ from their initial values.
    await train({
      modelDir, dataDir, batchSize: 8, dataFormat: 'NCHW', maxTrainSteps: 3, learningRate: 0.01, summaryInterval: 1,
      checkpointInterval: 3, validationInterval: 100, keepLastNCheckpoints: 1, seed: 3, log: () => {}, info: () => {},
    });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("squeezeNetStateShapes (save's check, computed without a GPU) equals the model's state dict", () => {
    for (const numClasses of [10, 3]) {
      const model = new SqueezeNetCifar({ dataFormat: 'NCHW', seed: 0, numClasses });
      try {
        const actual = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape]]));
        assert.deepEqual(squeezeNetStateShapes(numClasses), actual);
      } finally {
        model.dispose();
      }
    }
  });

  it('fails clearly when there is no checkpoint', () => {
    assert.throws(() => saveModel(path.join(root, 'nothing')), (e: Error) => e instanceof ExportError && /no checkpoint found/.test(e.message));
  });

  it('exports safetensors, ONNX and labels; onnxruntime agrees with squeeze within 1e-4', async () => {
    const r = saveModel(modelDir);
    assert.equal(r.step, 3);
    const st = readSafetensors(r.weights);
    assert.deepEqual(st.tensors['fire9.expand3x3.weight']?.shape, [256, 64, 3, 3]);
    assert.equal(JSON.parse(st.metadata['squeeze']!).classes.length, 10);
    assert.deepEqual(readLabels(r.labels).slice(0, 2), ['airplane', 'automobile']);

    const onnx = decodeOnnxModel(fs.readFileSync(r.onnx));
    assert.ok(onnx.opset_import.some((o) => Number(o.version) >= 13));
    assert.deepEqual(onnx.graph.input.map((i) => i.name), ['images']);
    assert.deepEqual(onnx.graph.output.map((o) => o.name), ['logits', 'predictions']);
    const ops = new Set(onnx.graph.node.map((n) => n.op_type));
    for (const op of ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Concat', 'AveragePool', 'Flatten', 'ArgMax']) assert.ok(ops.has(op), op);
    assert.ok(onnx.graph.initializer.some((i) => i.name === 'fire2.squeeze.bn.running_var'));

    const files = listImages(imagesDir).slice(0, 12);
    const images = files.map((f) => decodeImageFile(f).rgb);
    const inference = await ort.InferenceSession.create(r.onnx);
    const input = new Float32Array(images.length * 3072);
    images.forEach((img, i) => input.set(img, i * 3072));
    const out = await inference.run({ images: new ort.Tensor('float32', input, [images.length, 3, 32, 32]) });
    const ortLogits = out['logits']!.data as Float32Array;
    const ortPred = out['predictions']!.data as BigInt64Array;

    for (const df of ['NCHW', 'NHWC'] as const) {
      const c = await Classifier.load(modelDir, { dataFormat: df });
      const logits = await c.logits(images);
      logits.forEach((row, i) => row.forEach((v, j) => {
        assert.ok(Math.abs(v - ortLogits[i * 10 + j]!) <= 1e-4 * Math.max(1, Math.abs(v)), `${df} logit [${i},${j}] ${v} vs onnxruntime ${ortLogits[i * 10 + j]}`);
      }));
      const { predictions } = await c.predictFiles(files, 5);
      predictions.forEach((p, i) => {
        assert.equal(p.index, Number(ortPred[i]));
        assert.equal(p.index, logits[i]!.indexOf(Math.max(...logits[i]!)));
        assert.equal(predictionLine(p), `${files[i]}: predicted ${p.label}`);
        assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      });
      c.dispose();
    }
  });

  it('reports unreadable files by name and still predicts the rest', async () => {
    const dir = path.join(root, 'mixed');
    fs.mkdirSync(dir, { recursive: true });
    const good = listImages(imagesDir).slice(0, 2);
    good.forEach((f, i) => fs.copyFileSync(f, path.join(dir, `good${i}.png`)));
    fs.writeFileSync(path.join(dir, 'bad.png'), 'not a png');
    fs.writeFileSync(path.join(dir, 'truncated.png'), fs.readFileSync(good[0]!).subarray(0, 60));
    const c = await Classifier.load(modelDir);
    const { predictions, failures } = await c.predictFiles(listImages(dir));
    c.dispose();
    assert.deepEqual(predictions.map((p) => path.basename(p.path)), ['good0.png', 'good1.png']);
    assert.deepEqual(failures.map((f) => path.basename(f.path)).sort(), ['bad.png', 'truncated.png']);
    for (const f of failures) assert.ok(f.error.includes(f.path), f.error);
  });
});

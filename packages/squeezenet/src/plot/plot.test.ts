import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { EventWriter } from '../formats/index.js';
import { PlotError } from './errors.js';
import { plotBench, readBenchSteps } from './plot-bench.js';
import { plotTraining, trainingCurves } from './plot-training.js';

function plotError(pattern: RegExp) {
  return (error: unknown) => error instanceof PlotError && pattern.test(error.message) && !error.message.includes('\n');
}

/** Writes one event file into `dir` whose name sorts as written at `second`. */
function writeEvents(dir: string, second: number, scalars: Array<[tag: string, step: number, value: number]>): void {
  const writer = new EventWriter(dir);
  for (const [tag, step, value] of scalars) writer.addScalar(tag, value, step);
  writer.close();
  renameSync(writer.path, join(dir, `events.out.tfevents.${second}.host`));
}

describe('plot', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'squeeze-plot-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('joins the event files of a resumed run, the later values winning', () => {
    writeEvents(root, 1700000000, [['loss', 1, 2.0], ['loss', 2, 1.5], ['loss', 3, 1.4], ['accuracy', 3, 0.2]]);
    // Resumed from a checkpoint at step 2: step 3 was logged again.
    writeEvents(root, 1700000100, [['loss', 3, 1.3], ['loss', 4, 1.1]]);
    writeEvents(join(root, 'eval'), 1700000050, [['accuracy', 3, 0.25]]);
    const curves = trainingCurves(root);
    assert.deepEqual(curves.loss, [{ name: 'train', points: [[1, 2], [2, 1.5], [3, Math.fround(1.3)], [4, Math.fround(1.1)]] }]);
    assert.deepEqual(curves.accuracy, [
      { name: 'train', points: [[3, Math.fround(0.2)]] },
      { name: 'eval', points: [[3, 0.25]] },
    ]);
  });

  it('writes PNG and SVG charts, leaving out a chart without data', () => {
    writeEvents(root, 1700000000, [['loss', 1, 2.0], ['loss', 2, 1.5]]);
    const out = join(root, 'plots');
    const written = plotTraining(root, out);
    assert.deepEqual(written, [join(out, 'loss.png'), join(out, 'loss.svg')]);
    const png = pngjs.PNG.sync.read(readFileSync(join(out, 'loss.png')));
    assert.deepEqual([png.width, png.height], [800, 500]);
    assert.match(readFileSync(join(out, 'loss.svg'), 'utf8'), /^<svg[^>]* width="800" height="500"/);
  });

  it('explains a missing run or one without the tags', () => {
    assert.throws(() => plotTraining(join(root, 'nowhere'), root), plotError(/nowhere: no TensorBoard event files .*squeeze train --model_dir/));
    writeEvents(root, 1700000000, [['learning_rate', 1, 0.001]]);
    assert.throws(() => plotTraining(root, join(root, 'plots')), plotError(/no 'accuracy' or 'loss' scalars/));
    assert.deepEqual(readdirSync(root).filter((name) => name === 'plots'), []);
  });

  it('reads bench results leniently', () => {
    const file = join(root, 'bench.json');
    writeFileSync(file, JSON.stringify([
      { layout: 'NCHW', batchSize: 8, medianMs: 100, p90Ms: 120 },
      { data_format: 'NHWC', batch_size: 8, median_ms: 90 },
      { name: 'forward', layout: 'NCHW', batchSize: 8, medianMs: 30 },
      { layout: 'NCHW', batchSize: 16, note: 'no median: skipped' },
      'not a row',
    ]));
    assert.deepEqual(readBenchSteps(file), [
      { series: 'NCHW', batchSize: 8, medianMs: 100 },
      { series: 'NHWC', batchSize: 8, medianMs: 90 },
      { series: 'forward NCHW', batchSize: 8, medianMs: 30 },
    ]);
  });

  it('plots bench step time and throughput, and explains unusable files', () => {
    const file = join(root, 'bench.json');
    writeFileSync(file, JSON.stringify({ steps: [{ layout: 'NCHW', batchSize: 8, medianMs: 100 }, { layout: 'NCHW', batchSize: 32, medianMs: 320 }] }));
    const out = join(root, 'charts');
    assert.equal(plotBench(file, out).length, 4);
    assert.deepEqual(readdirSync(out).sort(), ['bench_step_time.png', 'bench_step_time.svg', 'bench_throughput.png', 'bench_throughput.svg']);
    assert.throws(() => plotBench(join(root, 'missing.json'), out), plotError(/missing\.json: no such file/));
    writeFileSync(file, '{"steps": [');
    assert.throws(() => plotBench(file, out), plotError(/bench\.json: not readable JSON/));
    writeFileSync(file, JSON.stringify({ results: [] }));
    assert.throws(() => plotBench(file, out), plotError(/expected \{ "steps"/));
    mkdirSync(join(root, 'dir.json'));
    assert.throws(() => plotBench(join(root, 'dir.json'), out), plotError(/dir\.json: not readable JSON/));
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ChromeTrace, summariseDurations } from './trace.js';

describe('formats/trace', () => {
  it('produces Chrome trace-event JSON: metadata events first, complete events in order', () => {
    const t = new ChromeTrace();
    t.addComplete({ name: 'conv1', cat: 'gpu', ts: 10, dur: 2.5, pid: 1, tid: 2, args: { flops: 123 } });
    t.nameThread(1, 2, 'GPU queue');
    t.addComplete({ name: 'relu', ts: 12.5, dur: 0, pid: 1, tid: 2 });
    t.nameProcess(1, 'squeeze');
    assert.deepEqual(t.toJSON(), {
      traceEvents: [
        { name: 'thread_name', ph: 'M', pid: 1, tid: 2, args: { name: 'GPU queue' } },
        { name: 'process_name', ph: 'M', pid: 1, args: { name: 'squeeze' } },
        { name: 'conv1', cat: 'gpu', ph: 'X', ts: 10, dur: 2.5, pid: 1, tid: 2, args: { flops: 123 } },
        { name: 'relu', ph: 'X', ts: 12.5, dur: 0, pid: 1, tid: 2 },
      ],
      displayTimeUnit: 'ms',
    });
  });

  it('rejects negative or non-finite times', () => {
    const t = new ChromeTrace();
    assert.throws(() => t.addComplete({ name: 'x', ts: 0, dur: -1, pid: 1, tid: 1 }), RangeError);
    assert.throws(() => t.addComplete({ name: 'x', ts: NaN, dur: 1, pid: 1, tid: 1 }), RangeError);
  });

  it('writes the JSON to disk atomically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squeeze-trace-'));
    try {
      const t = new ChromeTrace();
      t.addComplete({ name: 'step', ts: 0, dur: 1000, pid: 0, tid: 0 });
      const p = path.join(dir, 'trace.json');
      t.write(p);
      assert.deepEqual(JSON.parse(fs.readFileSync(p, 'utf8')), t.toJSON());
      assert.deepEqual(fs.readdirSync(dir), ['trace.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarises durations (median of an even count is the mean of the middle two)', () => {
    assert.deepEqual(summariseDurations([5, 1, 3]), { min: 1, max: 5, median: 3, measurements: [5, 1, 3] });
    assert.deepEqual(summariseDurations([4, 1, 10, 2]), { min: 1, max: 10, median: 3, measurements: [4, 1, 10, 2] });
    assert.deepEqual(summariseDurations([7]), { min: 7, max: 7, median: 7, measurements: [7] });
    const input = [3, 2, 1];
    summariseDurations(input);
    assert.deepEqual(input, [3, 2, 1], 'input must not be sorted in place');
    assert.throws(() => summariseDurations([]), RangeError);
    assert.throws(() => summariseDurations([1, NaN]), RangeError);
  });
});

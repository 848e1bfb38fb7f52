import assert from 'node:assert/strict';
import { formatPythonPrecision, trainLine, evalLine } from './format.js';

describe("Python '{:>.4}' formatting of accuracies", () => {
  // Expected strings are what CPython 3 prints for '{:>.4}'.format(x).
  const cases: Array<[number, string]> = [
    [5 / 32, '0.1562'], // exact tie: half-to-even keeps 2
    [7 / 32, '0.2188'], // exact tie: half-to-even rounds 7 up to 8
    [0.1, '0.1'],
    [1, '1.0'],
    [0, '0.0'],
    [0.5, '0.5'],
    [31 / 32, '0.9688'],
    [1 / 3, '0.3333'],
    [2 / 3, '0.6667'],
    [0.8765, '0.8765'],
    [0.99995, '1.0'], // stored slightly above the tie, so it rounds up
    [0.00012345, '0.0001234'], // 0.00012345 is stored just below ...45
    [0.00001, '1e-05'],
    [12345, '1.234e+04'],
    [1234, '1.234e+03'],
    [123.4, '123.4'],
    [100, '100.0'],
    [1000, '1e+03'],
    [0.0001, '0.0001'],
    [9999.5, '1e+04'],
    [-0.25, '-0.25'],
    [0.125, '0.125'],
  ];
  for (const [x, want] of cases) {
    it(`${x} → ${want}`, () => assert.equal(formatPythonPrecision(x), want));
  }

  it('pads the step to five columns as the sample does', () => {
    assert.equal(trainLine(7, 5 / 32), 'Train Step 7    :  0.1562');
    assert.equal(evalLine(1800, 0.8765), 'Evaluation Step 1800 :  0.8765');
    assert.equal(evalLine(123456, 1), 'Evaluation Step 123456:  1.0');
  });
});

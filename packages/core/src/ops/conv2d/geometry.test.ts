import assert from 'node:assert/strict';
import { conv2dGeometry, conv2dOutputShape, type Conv2dGeometry } from './geometry.js';

describe('conv2d geometry', () => {
  it('resolves SAME padding as TensorFlow (odd pixel at the bottom/right)', () => {
    const pads = (geo: Conv2dGeometry) => [geo.OH, geo.OW, geo.padTop, geo.padBottom, geo.padLeft, geo.padRight].join(',');
    assert.equal(pads(conv2dGeometry([32, 3, 32, 32], [96, 3, 2, 2], { padding: 'SAME' })), '32,32,0,1,0,1', '2×2 SAME on 32×32');
    assert.equal(pads(conv2dGeometry([1, 1, 6, 5], [1, 1, 3, 3], { padding: 'SAME', stride: 2, dataFormat: 'NCHW' })), '3,3,0,1,1,1', '3×3 stride 2 SAME on 6×5');
    assert.deepEqual(conv2dOutputShape(conv2dGeometry([2, 7, 9, 4], [8, 4, 3, 3], { dataFormat: 'NHWC' })), [2, 5, 7, 8], 'NHWC VALID output');
  });

  it('rejects mismatched channels, naming both shapes', () => {
    assert.throws(() => conv2dGeometry([1, 3, 8, 8], [4, 5, 3, 3]), /\[1,3,8,8\].*\[4,5,3,3\]/);
  });
});

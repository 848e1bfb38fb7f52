import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';

import { FormatError } from './errors.js';
import { buildOnnxModel, decodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxGraphInput } from './onnx.js';

/**
 * logits = X·W + B; label = ArgMax(logits, axis=1, keepdims=0);
 * flat = Reshape(logits, [-1]) (exercises an INT64 initializer);
 * scaled = Gemm(X, W, B, alpha=2.0 as FLOAT, beta=0.5) (exercises FLOAT attrs).
 */
const W = new Float32Array([1, -1, 0.5, 2, -3, 0.25]); // [3, 2]
const B = new Float32Array([0.1, -0.2]);
const tiny: OnnxGraphInput = {
  opset: 13,
  producer: 'squeeze-test',
  docString: 'tiny classifier',
  metadata: { dataset: 'none', classes: '2' },
  inputs: [{ name: 'X', elemType: 'float', shape: ['N', 3] }],
  outputs: [
    { name: 'logits', elemType: 'float', shape: ['N', 2] },
    { name: 'label', elemType: 'int64', shape: ['N'] },
    { name: 'flat', elemType: 'float', shape: ['M'] },
    { name: 'scaled', elemType: 'float', shape: ['N', 2] },
  ],
  initializers: [
    { name: 'W', dims: [3, 2], data: W },
    { name: 'B', dims: [2], data: B },
    { name: 'flat_shape', dims: [1], data: new BigInt64Array([-1n]) },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['X', 'W'], outputs: ['xw'], name: 'fc/matmul' },
    { op: 'Add', inputs: ['xw', 'B'], outputs: ['logits'], name: 'fc/add' },
    { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    { op: 'Reshape', inputs: ['logits', 'flat_shape'], outputs: ['flat'] },
    { op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['scaled'], attrs: { alpha: { float: 2 }, beta: 0.5, transA: 0 } },
  ],
};

function reference(x: number[][]): { logits: number[][]; label: number[] } {
  const logits = x.map((row) => [0, 1].map((j) => Math.fround(row.reduce((s, v, k) => s + v * W[k * 2 + j]!, 0) + B[j]!)));
  return { logits, label: logits.map((l) => (l[1]! > l[0]! ? 1 : 0)) };
}

describe('formats/onnx', () => {
  it('round-trips a tiny model through the decoder', () => {
    const m = decodeOnnxModel(buildOnnxModel(tiny));
    assert.equal(m.ir_version, 8);
    assert.equal(m.producer_name, 'squeeze-test');
    assert.equal(m.doc_string, 'tiny classifier');
    assert.deepEqual(m.opset_import, [{ domain: '', version: 13 }]);
    assert.deepEqual(m.metadata_props, [{ key: 'dataset', value: 'none' }, { key: 'classes', value: '2' }]);
    assert.deepEqual(m.graph.input, [{ name: 'X', elemType: ONNX_FLOAT, shape: ['N', 3] }]);
    assert.deepEqual(m.graph.output.map((o) => [o.name, o.elemType, o.shape]), [
      ['logits', ONNX_FLOAT, ['N', 2]],
      ['label', ONNX_INT64, ['N']],
      ['flat', ONNX_FLOAT, ['M']],
      ['scaled', ONNX_FLOAT, ['N', 2]],
    ]);
    assert.deepEqual(m.graph.node.map((n) => [n.op_type, n.input, n.output]), tiny.nodes.map((n) => [n.op, n.inputs, n.outputs]));
    assert.equal(m.graph.node[0]!.name, 'fc/matmul');
    assert.equal(m.graph.node[2]!.name, 'ArgMax_2');
    // Zero-valued INT attributes must be on the wire (proto2 presence).
    assert.deepEqual(m.graph.node[2]!.attribute, [
      { name: 'axis', type: 'INT', i: 1 },
      { name: 'keepdims', type: 'INT', i: 0 },
    ]);
    assert.deepEqual(m.graph.node[4]!.attribute, [
      { name: 'alpha', type: 'FLOAT', f: 2 },
      { name: 'beta', type: 'FLOAT', f: 0.5 },
      { name: 'transA', type: 'INT', i: 0 },
    ]);
    const [w, b, shape] = m.graph.initializer;
    assert.deepEqual([w!.name, w!.dims, w!.data_type], ['W', [3, 2], ONNX_FLOAT]);
    assert.deepEqual(w!.data, W);
    assert.deepEqual(b!.data, B);
    assert.deepEqual([shape!.data_type, shape!.data], [ONNX_INT64, new BigInt64Array([-1n])]);
  });

  it('encodes raw_data little-endian and attributes with the right AttributeProto fields', () => {
    const bytes = Buffer.from(
      buildOnnxModel({
        opset: 13,
        inputs: [],
        outputs: [],
        initializers: [{ name: 't', dims: [2], data: new Float32Array([1, -2]) }],
        nodes: [{ op: 'Foo', inputs: [], outputs: [], name: 'n', attrs: { ints: [1, 2], floats: { floats: [0.5] }, mode: 'x' } }],
      }),
    );
    // TensorProto: dims (1) = 2 unpacked, data_type (2) = 1, name (8) = "t", raw_data (9) = f32 LE 1.0, -2.0
    assert.ok(bytes.includes(Buffer.from('0802' + '1001' + '4201' + '74' + '4a08' + '0000803f' + '000000c0', 'hex')));
    // AttributeProto "ints": name (1), ints (8) unpacked as in onnx.proto, type (20) = INTS (7)
    assert.ok(bytes.includes(Buffer.from('0a04' + Buffer.from('ints').toString('hex') + '4001' + '4002' + 'a00107', 'hex')));
    // AttributeProto "floats": floats (7) unpacked fixed32, type (20) = FLOATS (6)
    assert.ok(bytes.includes(Buffer.from('0a06' + Buffer.from('floats').toString('hex') + '3d0000003f' + 'a00106', 'hex')));
    // AttributeProto "mode": s (4) bytes, type (20) = STRING (3)
    assert.ok(bytes.includes(Buffer.from('0a04' + Buffer.from('mode').toString('hex') + '220178' + 'a00103', 'hex')));
  });

  it('rejects bad input', () => {
    assert.throws(() => buildOnnxModel({ ...tiny, opset: 12 }), RangeError);
    assert.throws(() => buildOnnxModel({ ...tiny, initializers: [{ name: 'W', dims: [4], data: W }] }), TypeError);
    assert.throws(() => buildOnnxModel({ ...tiny, nodes: [{ op: 'X', inputs: [], outputs: [], attrs: { a: [1.5] } }] }), TypeError);
    assert.throws(() => decodeOnnxModel(new Uint8Array([0x3a, 0xff]), 'm.onnx'), (e: unknown) => e instanceof FormatError && e.message.startsWith('m.onnx: '));
  });

  it('runs in onnxruntime-node with the expected numbers', async function () {
    this.timeout(60_000);
    const inference = await ort.InferenceSession.create(buildOnnxModel(tiny));
    const x = [
      [1, 2, 3],
      [-1, 0.5, 4],
      [0, 0, 0],
    ];
    const feeds = { X: new ort.Tensor('float32', Float32Array.from(x.flat()), [3, 3]) };
    const out = await inference.run(feeds);
    const ref = reference(x);
    assert.deepEqual(out['logits']!.dims, [3, 2]);
    const logits = Array.from(out['logits']!.data as Float32Array);
    logits.forEach((v, i) => assert.ok(Math.abs(v - ref.logits.flat()[i]!) < 1e-5, `logits[${i}] = ${v}`));
    assert.equal(out['label']!.type, 'int64');
    assert.deepEqual(out['label']!.dims, [3]); // keepdims = 0 reached the runtime
    assert.deepEqual(Array.from(out['label']!.data as BigInt64Array, Number), ref.label);
    assert.deepEqual(out['flat']!.dims, [6]);
    assert.deepEqual(Array.from(out['flat']!.data as Float32Array), logits);
    // Gemm: 2·X·W + 0.5·B
    const scaled = Array.from(out['scaled']!.data as Float32Array);
    scaled.forEach((v, i) => {
      const [r, c] = [Math.floor(i / 2), i % 2];
      const expected = 2 * (ref.logits[r]![c]! - B[c]!) + 0.5 * B[c]!;
      assert.ok(Math.abs(v - expected) < 1e-5, `scaled[${i}] = ${v}, expected ${expected}`);
    });
    await inference.release();
  });
});

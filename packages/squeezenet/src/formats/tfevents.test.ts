import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FormatError } from './errors.js';
import { decodeGraphDef, encodeGraphDef, EventWriter, readEvents, type GraphDefInput } from './tfevents.js';
import { crc32c, decodeTfRecords, encodeTfRecord, maskCrc, maskedCrc32c } from './tfrecord.js';

// Known answers computed with an independent bit-at-a-time CRC32C (Python).
describe('formats/tfrecord', () => {
  it('CRC32C known answers (RFC 3720 / iSCSI check values)', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  });

  it('masks CRCs as TensorFlow does', () => {
    assert.equal(maskCrc(0xe3069283), 0xc78ab0e5);
    assert.equal(maskCrc(0), 0xa282ead8);
    assert.equal(maskedCrc32c(Buffer.from('123456789')), 0xc78ab0e5);
  });

  it('frames a record as u64 length, masked CRC of length, data, masked CRC of data', () => {
    const rec = encodeTfRecord(new Uint8Array([1, 2, 3]));
    assert.equal(Buffer.from(rec).toString('hex'), '0300000000000000' + 'b099490e' + '010203' + '39cdc086');
    assert.deepEqual(decodeTfRecords(rec).map((r) => [...r]), [[1, 2, 3]]);
    const empty = encodeTfRecord(new Uint8Array(0));
    assert.equal(empty.length, 16);
    assert.deepEqual(decodeTfRecords(Buffer.concat([rec, empty, rec])).map((r) => r.length), [3, 0, 3]);
  });

  it('detects any single corrupted byte', () => {
    const stream = Buffer.concat([encodeTfRecord(Buffer.from('hello')), encodeTfRecord(Buffer.from('world!'))]);
    for (let i = 0; i < stream.length; i++) {
      const bad = Buffer.from(stream);
      bad[i]! ^= 0x10;
      assert.throws(() => decodeTfRecords(bad, 'f'), FormatError, `flip at byte ${i} not detected`);
    }
  });

  it('reports truncation, or drops the partial tail when asked', () => {
    const stream = Buffer.concat([encodeTfRecord(Buffer.from('one')), encodeTfRecord(Buffer.from('two'))]);
    for (let cut = 20; cut < stream.length; cut++) {
      assert.throws(() => decodeTfRecords(stream.subarray(0, cut), 'f'), /truncated TFRecord/);
      const kept = decodeTfRecords(stream.subarray(0, cut), 'f', { allowTruncatedTail: true });
      assert.deepEqual(kept.map((r) => Buffer.from(r).toString()), ['one']);
    }
  });
});

describe('formats/tfevents', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squeeze-tfevents-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const graph: GraphDefInput = {
    nodes: [
      { name: 'input', op: 'Placeholder', inputs: [], attrs: { shape: [-1, 32, 32, 3], dtype: { type: 'DT_FLOAT' } } },
      {
        name: 'fire2/squeeze1x1/Conv2D',
        op: 'Conv2D',
        inputs: ['input', 'fire2/squeeze1x1/kernel'],
        device: '/device:GPU:0',
        attrs: {
          strides: [1, 1, 1, 1],
          padding: 'SAME',
          _output_shapes: [-1, 32, 32, 16],
          epsilon: 0.001,
          use_cudnn_on_gpu: true,
          zero: 0,
          zerof: { f: 0 },
          empty: '',
          scales: { list: { f: [0.5, 0.25] } },
        },
      },
      { name: 'fire2/squeeze1x1/kernel', op: 'Const', inputs: [] },
      { name: 'out', op: 'Identity', inputs: ['fire2/squeeze1x1/Conv2D:0', '^input'] },
    ],
  };

  it('encodes a GraphDef byte-exactly for a minimal node', () => {
    const bytes = encodeGraphDef({ nodes: [{ name: 'a', op: 'Placeholder', inputs: [] }] });
    // node (field 1, LEN) { name (1) "a", op (2) "Placeholder" }, versions (field 4, LEN) { producer (1) = 22 }
    const expected = Buffer.concat([
      Buffer.from([0x0a, 3 + 13, 0x0a, 0x01, 0x61, 0x12, 0x0b]),
      Buffer.from('Placeholder'),
      Buffer.from([0x22, 0x02, 0x08, 0x16]),
    ]);
    assert.equal(Buffer.from(bytes).toString('hex'), expected.toString('hex'));
  });

  it('GraphDef round trip keeps names, inputs, devices and typed attrs', () => {
    const g = decodeGraphDef(encodeGraphDef(graph));
    assert.equal(g.producer, 22);
    assert.deepEqual(g.nodes.map((n) => n.name), graph.nodes.map((n) => n.name));
    assert.deepEqual(g.nodes[3]!.inputs, ['fire2/squeeze1x1/Conv2D:0', '^input']);
    assert.equal(g.nodes[1]!.device, '/device:GPU:0');
    assert.equal(g.nodes[0]!.device, undefined);
    assert.deepEqual(g.nodes[0]!.attrs, { shape: { shape: [-1, 32, 32, 3] }, dtype: { type: 'DT_FLOAT' } });
    assert.deepEqual(g.nodes[1]!.attrs, {
      strides: { list: { i: [1, 1, 1, 1] } },
      padding: { s: 'SAME' },
      _output_shapes: { list: { shape: [[-1, 32, 32, 16]] } },
      epsilon: { f: Math.fround(0.001) },
      use_cudnn_on_gpu: { b: true },
      zero: { i: 0 },
      zerof: { f: 0 },
      empty: { s: '' },
      scales: { list: { f: [0.5, 0.25] } },
    });
  });

  it('writes an event file TensorBoard can read, and reads it back', () => {
    const logdir = path.join(dir, 'runs', 'a');
    const w = new EventWriter(logdir);
    const before = Math.floor(Date.now() / 1000);
    assert.match(path.basename(w.path), new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    assert.equal(path.dirname(w.path), logdir);
    w.addScalar('loss/train', 2.302585, 0, 1000.5);
    w.addScalar('loss/train', 0.1, 10, 1001.25);
    w.addScalar('accuracy', 0, 20); // zero must still be stored (oneof presence)
    w.addGraph(graph);
    // Already on disk before flush/close: a crash here loses nothing.
    const mid = readEvents(w.path);
    assert.equal(mid.length, 5);
    w.flush();
    w.close();
    w.close();
    assert.throws(() => w.addScalar('x', 1, 1), /closed/);

    const events = readEvents(w.path);
    assert.equal(events.length, 5);
    assert.equal(events[0]!.fileVersion, 'brain.Event:2');
    assert.ok(events[0]!.wallTime >= before - 1 && events[0]!.wallTime <= Date.now() / 1000 + 1);
    assert.deepEqual(events[1], { wallTime: 1000.5, step: 0, scalars: [{ tag: 'loss/train', value: Math.fround(2.302585) }] });
    assert.deepEqual(events[2], { wallTime: 1001.25, step: 10, scalars: [{ tag: 'loss/train', value: Math.fround(0.1) }] });
    assert.deepEqual(events[3]!.scalars, [{ tag: 'accuracy', value: 0 }]);
    assert.equal(events[3]!.step, 20);
    assert.deepEqual(events[4]!.graphDef, decodeGraphDef(encodeGraphDef(graph)));
  });

  it('serialises a scalar Event byte-exactly (event.proto / summary.proto field numbers)', () => {
    const w = new EventWriter(dir);
    w.addScalar('loss', 0.5, 3, 1000);
    w.close();
    const records = decodeTfRecords(fs.readFileSync(w.path));
    const expected = Buffer.from(
      '09' + '0000000000408f40' + // wall_time (1, fixed64 double) = 1000
        '1003' + // step (2, varint) = 3
        '2a0d' + // summary (5, LEN 13)
        '0a0b' + // Summary.value (1, LEN 11)
        '0a046c6f7373' + // Value.tag (1) = "loss"
        '150000003f', // Value.simple_value (2, fixed32 float) = 0.5
      'hex',
    );
    assert.equal(Buffer.from(records[1]!).toString('hex'), expected.toString('hex'));
    // file_version event: field 3 string.
    assert.ok(Buffer.from(records[0]!).includes(Buffer.from([0x1a, 13, ...Buffer.from('brain.Event:2')])));
  });

  it('two writers in the same directory and second get separate files', () => {
    const a = new EventWriter(dir);
    const b = new EventWriter(dir);
    assert.notEqual(a.path, b.path);
    assert.ok(path.basename(b.path).includes('tfevents'));
    a.close();
    b.close();
  });

  it('detects a corrupted byte in an event file', () => {
    const w = new EventWriter(dir);
    w.addScalar('loss', 1.5, 1, 1000);
    w.close();
    const bytes = fs.readFileSync(w.path);
    bytes[bytes.length - 6]! ^= 0x01; // inside the scalar's data
    fs.writeFileSync(w.path, bytes);
    assert.throws(() => readEvents(w.path), (err: unknown) => err instanceof FormatError && /data CRC mismatch/.test(err.message) && err.message.startsWith(w.path));
  });

  it('tolerates a half-written last record only when asked', () => {
    const w = new EventWriter(dir);
    w.addScalar('loss', 1.5, 1, 1000);
    w.close();
    fs.appendFileSync(w.path, encodeTfRecord(Buffer.from('partial')).subarray(0, 14));
    assert.throws(() => readEvents(w.path), FormatError);
    assert.equal(readEvents(w.path, { allowTruncatedTail: true }).length, 2);
  });

  it('reports a record with valid CRCs but an invalid protobuf as FormatError', () => {
    const p = path.join(dir, 'events.out.tfevents.bad');
    fs.writeFileSync(p, encodeTfRecord(new Uint8Array([0x0a, 0xff])));
    assert.throws(() => readEvents(p), (err: unknown) => err instanceof FormatError && /not a valid Event/.test(err.message));
  });
});

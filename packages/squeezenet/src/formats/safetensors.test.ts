import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Random } from '@squeeze/core';
import { FormatError } from './errors.js';
import { encodeSafetensors, readSafetensors, writeSafetensors, writeSafetensorsSync, type SafetensorsTensor } from './safetensors.js';

/** Deterministic PRNG so fuzz failures reproduce. */
function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

/** Builds a file by hand, exactly as the spec describes it. */
function handMade(headerJson: string, data: number[]): Uint8Array {
  const json = Buffer.from(headerJson, 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

function sample(): Record<string, SafetensorsTensor> {
  return {
    'conv1.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -Infinity]) },
    'bn.running_mean': { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -0]) },
    steps: { dtype: 'I64', shape: [], data: new BigInt64Array([-(2n ** 62n)]) },
    labels: { dtype: 'I32', shape: [3], data: new Int32Array([7, -1, 2 ** 31 - 1]) },
    mask: { dtype: 'U8', shape: [1, 5], data: new Uint8Array([0, 1, 255, 3, 4]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

describe('formats/safetensors', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squeeze-st-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('encodes byte-exactly per the spec (u64 LE length, JSON sorted by name, space padding, contiguous data)', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
      },
      { format: 'pt' },
    );
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    assert.equal(padded.length % 8, 0);
    const expected = handMade(padded, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 1, 2, 3]);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(expected));
  });

  it('round-trips every dtype through a file, sync and async', async () => {
    const tensors = sample();
    const meta = { format: 'pt', note: 'héllo "quoted"' };
    const p1 = path.join(dir, 'a.safetensors');
    const p2 = path.join(dir, 'b.safetensors');
    writeSafetensorsSync(p1, tensors, meta);
    await writeSafetensors(p2, tensors, meta);
    assert.deepEqual(fs.readFileSync(p1), fs.readFileSync(p2));
    const back = readSafetensors(p1);
    assert.deepEqual(back.metadata, meta);
    assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name]!;
      assert.equal(b.dtype, t.dtype, name);
      assert.deepEqual(b.shape, t.shape, name);
      assert.equal(b.data.constructor, t.data.constructor, name);
      assert.deepEqual(b.data, t.data, name);
    }
    // Data section starts 8-byte aligned.
    const headerLen = Number(fs.readFileSync(p1).readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0);
  });

  it('reads files laid out differently (no metadata, offsets not in name order, subarray input)', () => {
    const file = handMade(
      '{"z":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}',
      [1, 0, 0, 0, 9, 8],
    );
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    const back = readSafetensors(padded.subarray(3));
    assert.deepEqual(back.metadata, {});
    assert.deepEqual(back.tensors['z']!.data, new Int32Array([1]));
    assert.deepEqual(back.tensors['a']!.data, new Uint8Array([9, 8]));
  });

  it('stores a tensor literally named "__proto__" as data, not as a prototype', () => {
    const file = handMade('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [5]);
    const back = readSafetensors(file);
    assert.deepEqual(Object.keys(back.tensors), ['__proto__']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back.tensors, '__proto__')!.value.data, new Uint8Array([5]));
  });

  it('rejects invalid input on write with TypeError', () => {
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), TypeError);
    assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }), TypeError);
    assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), TypeError);
    assert.throws(() => encodeSafetensors({}, { k: 1 as unknown as string }), TypeError);
  });

  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['too short', new Uint8Array([1, 2, 3]), /too short/],
    ['header length past EOF', handMade('{}', []).map((b, i) => (i === 0 ? 200 : b)), /exceeds/],
    ['not JSON', handMade('{"a":', []), /not valid JSON/],
    ['not an object', handMade('[1,2]   ', []), /does not start with "\{"/],
    ['bad UTF-8', handMade('{"\xff"}', []).map((b, i) => (i === 10 ? 0xff : b)), /UTF-8|JSON/],
    ['unknown dtype', handMade('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', new Array(16).fill(0)), /unknown dtype "F128"/],
    ['shape/bytes mismatch', handMade('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(8).fill(0)), /needs 12 bytes/],
    ['offsets past the data', handMade('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', [1, 2]), /past the 2-byte data section/],
    ['gap', handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [1, 2]), /gap/],
    ['overlap', handMade('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', [1, 2, 3]), /overlaps/],
    ['trailing bytes', handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [1, 2]), /cover only 1/],
    ['metadata not strings', handMade('{"__metadata__":{"a":1}}', []), /metadata value/],
    ['negative dim', handMade('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', []), /shape/],
    ['extra key', handMade('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":1}}', []), /expected keys/],
    ['reversed offsets', handMade('{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', [0]), /reversed/],
    ['overflowing shape', handMade('{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}', []), /too many/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what} with a one-line FormatError naming the file`, () => {
      assert.throws(
        () => readSafetensors(bytes, 'model.safetensors'),
        (err: unknown) => {
          assert.ok(err instanceof FormatError, `got ${String(err)}`);
          assert.match(err.message, /^model\.safetensors: invalid safetensors: /);
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'));
          return true;
        },
      );
    });
  }

  it('names the path when reading from disk', () => {
    const p = path.join(dir, 'broken.safetensors');
    fs.writeFileSync(p, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    assert.throws(() => readSafetensors(p), (err: unknown) => err instanceof FormatError && err.message.startsWith(`${p}: `));
  });

  it('fuzz: random and mutated inputs only ever throw FormatError', function () {
    this.timeout(60_000);
    const rand = rng(0x5eed);
    const int = (n: number): number => Math.floor(rand() * n);
    const valid = encodeSafetensors(sample(), { format: 'pt' });
    const headerLen = Number(Buffer.from(valid).readBigUInt64LE(0));
    const headerObj = JSON.parse(Buffer.from(valid.subarray(8, 8 + headerLen)).toString('utf8')) as Record<string, unknown>;
    const dataPart = valid.subarray(8 + headerLen);
    const weird: unknown[] = [-1, 0, 1, 2.5, 1e300, -1e300, 2 ** 53, 'F32', 'x', '', null, true, [], {}, [0], [0, 1e20], [1, 0], [-1, 2], ['a'], { a: 1 }, new Array(50).fill(1)];
    const encodeHeader = (h: unknown, data: Uint8Array): Uint8Array => {
      const json = Buffer.from(JSON.stringify(h), 'utf8');
      const out = Buffer.alloc(8 + json.length + data.length);
      out.writeBigUInt64LE(BigInt(json.length), 0);
      json.copy(out, 8);
      Buffer.from(data).copy(out, 8 + json.length);
      return out;
    };

    let accepted = 0;
    let rejected = 0;
    const start = Date.now();
    for (let iter = 0; iter < 4000; iter++) {
      let input: Uint8Array;
      const kind = iter % 6;
      if (kind === 0) {
        // Pure noise, sometimes with a plausible length prefix.
        input = Uint8Array.from({ length: int(300) }, () => int(256));
        if (input.length >= 8 && rand() < 0.5) Buffer.from(input.buffer).writeBigUInt64LE(BigInt(int(input.length)), 0);
      } else if (kind === 1) {
        // Bit flips anywhere (mostly in the header).
        input = valid.slice();
        for (let k = 1 + int(4); k > 0; k--) {
          const pos = rand() < 0.8 ? int(8 + headerLen) : int(input.length);
          input[pos]! ^= 1 << int(8);
        }
      } else if (kind === 2) {
        // Truncation or extension.
        input = rand() < 0.7 ? valid.slice(0, int(valid.length)) : Buffer.concat([valid, Buffer.alloc(1 + int(16), int(256))]);
      } else if (kind === 3) {
        // Semantic header edits with a correct length prefix.
        const h = structuredClone(headerObj) as Record<string, Record<string, unknown>>;
        const names = Object.keys(h);
        const name = names[int(names.length)]!;
        const fields = ['dtype', 'shape', 'data_offsets', 'extra'];
        const entry = h[name]!;
        if (rand() < 0.2) h[name] = weird[int(weird.length)] as Record<string, unknown>;
        else entry[fields[int(fields.length)]!] = weird[int(weird.length)];
        if (rand() < 0.2) delete h[names[int(names.length)]!];
        input = encodeHeader(h, rand() < 0.8 ? dataPart : dataPart.subarray(0, int(dataPart.length)));
      } else if (kind === 4) {
        // Corrupt the length field only.
        input = valid.slice();
        Buffer.from(input.buffer).writeBigUInt64LE(rand() < 0.5 ? BigInt(int(valid.length + 16)) : BigInt.asUintN(64, BigInt(int(2 ** 32)) << BigInt(int(32))), 0);
      } else {
        // Byte substitutions of JSON-significant characters.
        input = valid.slice();
        const specials = [...'{}[]":,0123456789-.e \\'].map((c) => c.charCodeAt(0));
        for (let k = 1 + int(3); k > 0; k--) input[8 + int(headerLen)] = specials[int(specials.length)]!;
      }
      try {
        const out = readSafetensors(input, 'fuzz');
        accepted++;
        // Anything accepted must be internally consistent.
        for (const t of Object.values(out.tensors)) {
          assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
        }
      } catch (err) {
        if (!(err instanceof FormatError)) {
          throw new Error(`iteration ${iter} (kind ${kind}) threw ${String(err)} for input ${Buffer.from(input).toString('hex').slice(0, 400)}`);
        }
        rejected++;
      }
    }
    assert.ok(rejected > 3000, `only ${rejected} rejections`);
    assert.ok(accepted > 0, 'no mutated input was accepted; the fuzzer is not reaching the success path');
    assert.ok(Date.now() - start < 30_000, 'fuzzing took suspiciously long');
  });
});

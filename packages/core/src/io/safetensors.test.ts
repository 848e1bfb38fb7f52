// Through the package entry point, which also wires autograd's default ops.
import { saveSafetensors, loadSafetensors, decodeSafetensors, encodeSafetensors, SafetensorsFormatError, Sequential, Linear, BatchNorm1d, manualSeed, tensor } from '../index.js';
import { save, load } from './node.js';
import { expectClose } from '../testing/check.js';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Parses the bytes by the spec, independently of the decoder: [header JSON, data section]. */
function parseBySpec(bytes: Uint8Array): { headerLength: number; header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  return { headerLength, header: JSON.parse(text), data: bytes.subarray(8 + headerLength) };
}

describe('safetensors in core', () => {
  it('writes the spec\'s layout: u64 LE header length, JSON header padded with spaces to 8 bytes, then the tensors in the reference writer\'s order', async () => {
    const w = tensor(Float32Array.from([1.5, -2, 3.25, 4, 5, 6]), [2, 3]);
    const b = tensor(Float32Array.from([0.5, -0.5]), [2]);
    const steps = tensor(Int32Array.from([7]), [1], 'i32');
    const bytes = await saveSafetensors({ 'layer.weight': w, 'layer.bias': b, steps }, { format: 'pt' });
    const { headerLength, header, data } = parseBySpec(bytes);
    if ((8 + headerLength) % 8 !== 0) throw new Error(`data section starts at ${8 + headerLength}, not 8-byte aligned`);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    if (text.trimEnd().length + ((8 - (text.trimEnd().length % 8)) % 8) !== headerLength || /[^ ]/.test(text.slice(text.trimEnd().length))) throw new Error('the header must be padded with spaces only');
    const meta = (header as unknown as Record<string, unknown>)['__metadata__'];
    if (JSON.stringify(meta) !== '{"format":"pt"}') throw new Error(`metadata ${JSON.stringify(meta)}`);
    // F32 before I32; by name within a dtype; offsets tile the data section
    const expected = { 'layer.bias': ['F32', [2], [0, 8]], 'layer.weight': ['F32', [2, 3], [8, 32]], steps: ['I32', [1], [32, 36]] } as const;
    for (const [name, [dtype, shape, offsets]] of Object.entries(expected)) {
      const e = header[name]!;
      if (e.dtype !== dtype || e.shape.join() !== shape.join() || e.data_offsets.join() !== offsets.join()) throw new Error(`${name}: ${JSON.stringify(e)}`);
    }
    if (data.byteLength !== 36) throw new Error(`data section of ${data.byteLength} bytes`);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expectClose([dv.getFloat32(8, true), dv.getFloat32(12, true), dv.getFloat32(28, true), dv.getFloat32(4, true)], [1.5, -2, 6, -0.5], { atol: 0, rtol: 0 }, 'little-endian f32');
    if (dv.getInt32(32, true) !== 7) throw new Error('little-endian i32');
    for (const t of [w, b, steps]) t.dispose();
  });

  it('round-trips a model\'s state dict into another model', async () => {
    manualSeed(11);
    const make = () => new Sequential(new Linear(4, 8), new BatchNorm1d(8), new Linear(8, 3));
    const a = make();
    const bModel = make();
    const loaded = loadSafetensors(await saveSafetensors(a.stateDict()));
    if (Object.keys(loaded).sort().join() !== Object.keys(a.stateDict()).sort().join()) throw new Error(`keys ${Object.keys(loaded)}`);
    bModel.loadStateDict(loaded);
    const sa = a.stateDict();
    for (const [k, t] of Object.entries(bModel.stateDict())) expectClose(await t.data(), await sa[k]!.data(), { atol: 0, rtol: 0 }, k);
    a.dispose();
    bModel.dispose();
  });

  it('loads PyTorch\'s other dtypes as f32 or int32: F64, F16, BF16 and int64', () => {
    const half = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]); // 1, -2, 0.333…, smallest subnormal, +inf
    const bf16 = Uint16Array.from([0x3f80, 0xbfc0, 0x4049]); // 1, -1.5, 3.140625
    const bytes = encodeSafetensors({
      d: { dtype: 'F64', shape: [2], data: Float64Array.from([0.1, -3]) },
      h: { dtype: 'F16', shape: [5], data: half },
      bf: { dtype: 'BF16', shape: [3], data: bf16 },
      n: { dtype: 'I64', shape: [], data: BigInt64Array.from([123n]) },
    });
    const t = loadSafetensors(bytes);
    expectClose(t['d']!.data, [0.1, -3], { atol: 1e-8, rtol: 1e-7 }, 'F64');
    expectClose(t['h']!.data.subarray(0, 4), [1, -2, 0.333251953125, 2 ** -24], { atol: 0, rtol: 0 }, 'F16');
    if (t['h']!.data[4] !== Infinity) throw new Error(`F16 +inf read as ${t['h']!.data[4]}`);
    expectClose(t['bf']!.data, [1, -1.5, 3.140625], { atol: 0, rtol: 0 }, 'BF16');
    if (t['n']!.dtype !== 'I32' || t['n']!.data[0] !== 123 || t['n']!.shape.length !== 0) throw new Error(`I64 → ${JSON.stringify(t['n'])}`);
    let msg = '';
    try { loadSafetensors(encodeSafetensors({ big: { dtype: 'I64', shape: [1], data: BigInt64Array.from([2n ** 40n]) } })); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes("'big'") || !msg.includes('int32')) throw new Error(`unexpected error '${msg}'`);
  });

  it('rejects malformed bytes with one line naming the source', () => {
    const good = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
    const truncated = good.subarray(0, good.byteLength - 1);
    for (const [bytes, text] of [[truncated, 'data section'], [good.subarray(0, 4), 'too short']] as const) {
      let err: unknown;
      try { decodeSafetensors(bytes, 'model.safetensors'); } catch (e) { err = e; }
      if (!(err instanceof SafetensorsFormatError) || !err.message.startsWith('model.safetensors: invalid safetensors') || !err.message.includes(text) || err.message.includes('\n')) {
        throw new Error(`unexpected error: ${String(err)}`);
      }
    }
  });

  it('save(path, module) and load(path) write and read a file (Node entry)', async () => {
    manualSeed(12);
    const dir = mkdtempSync(join(tmpdir(), 'squeeze-io-'));
    try {
      const a = new Sequential(new Linear(3, 2));
      const path = join(dir, 'model.safetensors');
      await save(path, a);
      if (readdirSync(dir).join() !== 'model.safetensors') throw new Error(`left behind: ${readdirSync(dir)}`);
      const bytes = readFileSync(path);
      if (Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) % 8 !== 0) throw new Error('alignment');
      const b = new Sequential(new Linear(3, 2));
      b.loadStateDict(await load(path));
      expectClose(await b.stateDict()['0.weight']!.data(), await a.stateDict()['0.weight']!.data(), { atol: 0, rtol: 0 }, 'weight');
      let msg = '';
      try { await load(join(dir, 'missing.safetensors')); } catch (e) { msg = (e as Error).message; }
      if (!msg.includes('missing.safetensors')) throw new Error(`unexpected error '${msg}'`);
      a.dispose();
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

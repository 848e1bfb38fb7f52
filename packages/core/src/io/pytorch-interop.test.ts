// Files exchanged with PyTorch (Debian's python3-torch for /usr/bin/python3, which
// scripts/setup-system.sh installs). Python's `safetensors` package is not used: PyPI is not
// reachable where these tests run, so the Python side reads and writes the format by its spec
// (u64 little-endian header length, JSON header, raw little-endian data) with torch.frombuffer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential, Conv2d, BatchNorm2d, GELU, Flatten, Linear, LayerNorm, manualSeed, tensor, tidy, noGrad, saveSafetensors } from '../index.js';
import { save, load } from './node.js';
import { expectClose, randomValues } from '../testing/check.js';

const PYTHON = '/usr/bin/python3';

/** The same network on both sides: conv, batch norm, GELU, depthwise conv, flatten, linear, layer norm. */
const nodeModel = () => new Sequential(
  new Conv2d(2, 4, 3, { padding: 1 }), new BatchNorm2d(4), new GELU(), new Conv2d(4, 4, 3, { padding: 1, groups: 4, bias: false }),
  new Flatten(), new Linear(4 * 5 * 5, 6), new LayerNorm(6),
);
const X_SHAPE = [3, 2, 5, 5];

const PY_COMMON = `
import json, struct, sys, torch
torch.manual_seed(0)
DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64, 'I32': torch.int32}
def model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.GELU(), torch.nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False),
        torch.nn.Flatten(), torch.nn.Linear(100, 6), torch.nn.LayerNorm(6))
def values(t):
    return t.detach().to(torch.float64).flatten().tolist()
`;

/** Reads a safetensors file by the spec into torch tensors, loads it into the model and runs it on the input. */
const PY_READ = `${PY_COMMON}
path, inputs = sys.argv[1], json.load(open(sys.argv[2]))
raw = open(path, 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
data = bytearray(raw[8 + n:])
tensors = {}
for name, e in header.items():
    if name == '__metadata__': continue
    start, end = e['data_offsets']
    dtype = DTYPES[e['dtype']]
    tensors[name] = torch.frombuffer(data[start:end], dtype=dtype).reshape(e['shape']) if end > start else torch.zeros(e['shape'], dtype=dtype)
out = {'metadata': header.get('__metadata__'), 'tensors': {k: {'dtype': header[k]['dtype'], 'shape': list(t.shape), 'values': values(t)} for k, t in tensors.items()}}
if inputs is not None:
    m = model()
    result = m.load_state_dict(tensors, strict=False)
    m.eval()
    with torch.no_grad():
        y = m(torch.tensor(inputs, dtype=torch.float32).reshape(${JSON.stringify(X_SHAPE)}))
    out.update(missing=result.missing_keys, unexpected=result.unexpected_keys, output=values(y))
print(json.dumps(out))
`;

/** Writes a trained model's state dict and a few tensors of other dtypes in the spec's layout. */
const PY_WRITE = `${PY_COMMON}
path, inputs = sys.argv[1], json.load(open(sys.argv[2]))
m = model()
with torch.no_grad():
    for p in m.parameters(): p.add_(torch.randn_like(p) * 0.1)
    m(torch.randn(8, 2, 5, 5) * 2 + 1)  # train mode: the running statistics move
m.eval()
with torch.no_grad():
    y = m(torch.tensor(inputs, dtype=torch.float32).reshape(${JSON.stringify(X_SHAPE)}))
state = dict(m.state_dict())
state['extra.f64'] = torch.tensor([[1.0 / 3, -2.5e-8], [1e30, 7.0]], dtype=torch.float64)
state['extra.f16'] = torch.tensor([0.1, -65504.0, 6.1e-5, 3.0e-7], dtype=torch.float16)
state['extra.bf16'] = torch.tensor([1.0 / 3, -3.0e38, 1.0e-30], dtype=torch.bfloat16)
state['extra.i64'] = torch.tensor([-5, 0, 2**31 - 1], dtype=torch.int64)
NAMES = {v: k for k, v in DTYPES.items()}
header, chunks, offset = {'__metadata__': {'format': 'pt'}}, [], 0
for name in sorted(state):
    t = state[name].detach().contiguous()
    b = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
    header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
    chunks.append(b)
    offset += len(b)
text = json.dumps(header).encode()
text += b' ' * (-len(text) % 8)
with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))
print(json.dumps({'tensors': {k: {'shape': list(t.shape), 'values': values(t)} for k, t in state.items()}, 'output': values(y)}))
`;

function python(script: string, args: string[]): any {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('safetensors with PyTorch', function () {
  let dir = '';
  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`    (skipped: ${PYTHON} cannot import torch; scripts/setup-system.sh installs python3-torch)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'squeeze-torch-'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('PyTorch reads what save() writes: every value, and the loaded torch model gives our eval outputs', async () => {
    manualSeed(3);
    const model = nodeModel();
    const x = randomValues(X_SHAPE.reduce((a, b) => a * b, 1), 41, -2, 2);
    // a training-mode pass so the batch-norm buffers are not their initial values
    tidy(() => { model.forward(tensor(Float32Array.from(randomValues(x.length, 42, -1, 3)), X_SHAPE)); });
    model.eval();
    const y = noGrad(() => tidy(() => model.forward(tensor(Float32Array.from(x), X_SHAPE))));
    const path = join(dir, 'node.safetensors');
    await save(path, model, { format: 'pt' });
    const inputs = join(dir, 'x.json');
    writeFileSync(inputs, JSON.stringify(Array.from(x)));
    const got = python(PY_READ, [path, inputs]);

    const state = model.stateDict();
    if (JSON.stringify(Object.keys(got.tensors).sort()) !== JSON.stringify(Object.keys(state).sort())) throw new Error(`torch read ${Object.keys(got.tensors)}, we wrote ${Object.keys(state)}`);
    for (const [name, t] of Object.entries(state)) {
      const g = got.tensors[name];
      if (g.dtype !== 'F32' || g.shape.join() !== t.shape.join()) throw new Error(`${name}: torch read ${g.dtype} [${g.shape}], we wrote [${t.shape}]`);
      expectClose(g.values, await t.data(), { atol: 0, rtol: 0 }, `${name} as torch read it`);
    }
    if (got.metadata?.format !== 'pt') throw new Error(`metadata ${JSON.stringify(got.metadata)}`);
    // PyTorch's batch norm fills in its num_batches_tracked (which we do not keep) for state dicts without it
    if (got.unexpected.length !== 0 || got.missing.length !== 0) throw new Error(`load_state_dict: missing ${got.missing}, unexpected ${got.unexpected}`);
    expectClose(got.output, await y.data(), { atol: 2e-5, rtol: 1e-4 }, 'torch eval output with our weights');
    y.dispose();
    model.dispose();
  });

  it('PyTorch reads an int32 tensor and an empty one as we wrote them', async () => {
    const ids = tensor(Int32Array.from([-7, 0, 2 ** 31 - 1, 42]), [2, 2], 'i32');
    const empty = tensor(new Float32Array(0), [0, 3]);
    const path = join(dir, 'ints.safetensors');
    writeFileSync(path, await saveSafetensors({ ids, empty }));
    const got = python(PY_READ, [path, writeNull(dir)]);
    if (got.tensors.ids.dtype !== 'I32' || got.tensors.ids.values.join() !== '-7,0,2147483647,42' || got.tensors.empty.shape.join() !== '0,3') throw new Error(JSON.stringify(got.tensors));
    ids.dispose();
    empty.dispose();
  });

  it('load() reads what PyTorch writes (F64, F16, BF16, I64 converted), and our model gives torch\'s eval outputs with its state dict', async () => {
    const x = randomValues(X_SHAPE.reduce((a, b) => a * b, 1), 43, -2, 2);
    const inputs = join(dir, 'x2.json');
    writeFileSync(inputs, JSON.stringify(Array.from(x)));
    const path = join(dir, 'torch.safetensors');
    const wrote = python(PY_WRITE, [path, inputs]);
    const loaded = await load(path);
    for (const [name, w] of Object.entries(wrote.tensors) as Array<[string, { shape: number[]; values: number[] }]>) {
      const t = loaded[name];
      if (!t || t.shape.join() !== w.shape.join()) throw new Error(`${name}: loaded [${t?.shape}], torch wrote [${w.shape}]`);
      const integer = name.endsWith('num_batches_tracked') || name === 'extra.i64';
      if (t.dtype !== (integer ? 'I32' : 'F32')) throw new Error(`${name}: loaded as ${t.dtype}`);
      // F64 values are rounded to f32 on loading; every other type converts exactly
      expectClose(t.data, name === 'extra.f64' ? w.values.map(Math.fround) : w.values, { atol: 0, rtol: 0 }, `${name} as loaded`);
    }
    const model = nodeModel();
    const { unexpectedKeys, missingKeys } = model.loadStateDict(Object.fromEntries(Object.entries(loaded).filter(([k]) => !k.startsWith('extra.'))), { strict: false });
    if (missingKeys.length !== 0 || unexpectedKeys.join() !== '1.num_batches_tracked') throw new Error(`loadStateDict: missing ${missingKeys}, unexpected ${unexpectedKeys}`);
    model.eval();
    const y = noGrad(() => tidy(() => model.forward(tensor(Float32Array.from(x), X_SHAPE))));
    expectClose(await y.data(), wrote.output, { atol: 2e-5, rtol: 1e-4 }, 'our eval output with torch\'s weights');
    y.dispose();
    model.dispose();
  });
});

/** A JSON file holding null: PY_READ then only parses the tensors. */
function writeNull(dir: string): string {
  const p = join(dir, 'null.json');
  writeFileSync(p, 'null');
  return p;
}

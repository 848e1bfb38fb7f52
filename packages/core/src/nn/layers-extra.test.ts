// Through the package entry point, which also wires autograd's default ops (backward of a scalar).
import {
  Module, Sequential, Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, ModuleList, ModuleDict, Identity, Sigmoid, Tanh, GELU, SiLU, LeakyReLU,
  LayerNorm, Embedding, crossEntropyLoss, manualSeed, tensor, tidy, noGrad, add, groupedConv2d, type Tensor,
} from '../index.js';
import { expectClose, randomValues } from '../testing/check.js';
import { geluRef, siluRef } from '../ops/elementwise/activations-reference.js';

const f32 = (v: ArrayLike<number>): Float32Array => Float32Array.from(v);

async function throwsWith(f: () => unknown, text: string): Promise<void> {
  let msg = '';
  try { f(); } catch (e) { msg = (e as Error).message; }
  if (msg !== text) throw new Error(`expected the error '${text}', got '${msg}'`);
}

/** A two-input module: forward(x, y) = head(x) + y. */
class TwoInputs extends Module<[Tensor, Tensor]> {
  readonly head = new Linear(3, 2);
  forward(x: Tensor, y: Tensor): Tensor { return add(this.head.forward(x), y); }
}

class Net extends Module {
  readonly features = new Sequential(new Linear(8, 16), new ReLU());
  readonly blocks = new ModuleList([new LayerNorm(16), new Identity()]);
  readonly heads = new ModuleDict({ main: new Linear(16, 4), aux: new Linear(16, 2) });
  forward(x: Tensor): Tensor {
    let h = this.features.forward(x);
    for (const b of this.blocks) h = b.forward(h);
    return this.heads.get('main').forward(h);
  }
}

describe('nn: containers, activation layers, LayerNorm, Embedding, BatchNorm1d', () => {
  it('names parameters like PyTorch through Sequential, ModuleList and ModuleDict', () => {
    manualSeed(1);
    const net = new Net();
    const names = [...net.namedParameters().keys()].join(' ');
    const expected = 'features.0.weight features.0.bias blocks.0.weight blocks.0.bias heads.main.weight heads.main.bias heads.aux.weight heads.aux.bias';
    if (names !== expected) throw new Error(`parameter names: ${names}`);
    if (net.parameters().length !== 8) throw new Error('parameters() count');
    net.eval();
    if ([...net.namedModules().values()].some((m) => m.training)) throw new Error('eval() must reach every descendant');
    net.train();
    if (net.blocks.length !== 2 || !(net.blocks.at(-1) instanceof Identity) || net.heads.keys().join() !== 'main,aux') throw new Error('container accessors');
    net.dispose();
  });

  it('a module may take several inputs (Module<[Tensor, Tensor]>)', async () => {
    const m = new TwoInputs();
    const x = tensor(f32(randomValues(6, 1)), [2, 3]);
    const y = tensor(f32(randomValues(4, 2)), [2, 2]);
    const out = noGrad(() => tidy(() => m.forward(x, y)));
    const base = noGrad(() => tidy(() => m.head.forward(x)));
    const [o, b, yv] = [await out.data(), await base.data(), await y.data()];
    expectClose(o, Float64Array.from(b, (v, i) => v + yv[i]!), { atol: 1e-6, rtol: 1e-6 }, 'two-input forward');
    for (const t of [x, y, out, base]) t.dispose();
    m.dispose();
  });

  it('a shape error names the module path and the layer', async () => {
    manualSeed(2);
    const model = new Sequential(new Linear(784, 256), new ReLU());
    class Classifier extends Module {
      readonly body = model;
      readonly classifier = new Sequential(new Linear(256, 10));
      forward(x: Tensor): Tensor { return this.classifier.forward(this.body.forward(x)); }
    }
    const net = new Classifier();
    net.parameters(); // enumerating the children records where each module sits
    const x = tensor(new Float32Array(400), [4, 100]);
    await throwsWith(() => net.classifier.forward(x), 'classifier.0 (Linear 256→10): input [4,100], expected [*, 256]');
    await throwsWith(() => new Linear(3, 2).forward(x), 'Linear 3→2: input [4,100], expected [*, 3]');
    const img = tensor(new Float32Array(2 * 5 * 4 * 4), [2, 5, 4, 4]);
    const conv = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4));
    await throwsWith(() => conv.forward(img), '0 (Conv2d 3→4): input [2,5,4,4], expected [N, 3, H, W]');
    await throwsWith(() => new BatchNorm1d(4).forward(img), 'BatchNorm1d 4: input [2,5,4,4], expected rank 2 or 3 with 4 channels on axis 1');
    for (const t of [x, img]) t.dispose();
    net.dispose();
    conv.dispose();
  });

  it('Linear applies to the last axis of inputs of any rank', async () => {
    manualSeed(3);
    const lin = new Linear(4, 3);
    const xv = randomValues(2 * 5 * 4, 4);
    const out = noGrad(() => tidy(() => lin.forward(tensor(f32(xv), [2, 5, 4]))));
    if (out.shape.join() !== '2,5,3') throw new Error(`shape [${out.shape}]`);
    const flat = noGrad(() => tidy(() => lin.forward(tensor(f32(xv), [10, 4]))));
    expectClose(await out.data(), await flat.data(), { atol: 0, rtol: 0 }, 'rank-3 Linear');
    out.dispose(); flat.dispose(); lin.dispose();
  });

  it('activation layers apply their ops', async () => {
    const xv = randomValues(8, 5, -3, 3);
    const cases: Array<[Module, (v: number) => number]> = [
      [new Sigmoid(), (v) => 1 / (1 + Math.exp(-v))], [new Tanh(), Math.tanh], [new GELU(), geluRef], [new SiLU(), siluRef],
      [new LeakyReLU(0.1), (v) => (v > 0 ? v : 0.1 * v)], [new Identity(), (v) => v],
    ];
    for (const [layer, ref] of cases) {
      const out = tidy(() => layer.forward(tensor(f32(xv), [8])));
      expectClose(await out.data(), xv.map(ref), { atol: 2e-6, rtol: 1e-5 }, layer.constructor.name);
      out.dispose();
    }
  });

  it('LayerNorm and Embedding have PyTorch\'s parameters and train through crossEntropyLoss', async () => {
    manualSeed(4);
    class Tagger extends Module {
      readonly embed = new Embedding(10, 8, { paddingIdx: 0 });
      readonly norm = new LayerNorm(8);
      readonly out = new Linear(8, 3);
      forward(ids: Tensor): Tensor { return this.out.forward(this.norm.forward(this.embed.forward(ids))); }
    }
    const m = new Tagger();
    const sd = m.stateDict();
    const shapes = Object.entries(sd).map(([k, t]) => `${k}:${t.shape.join('x')}`).join(' ');
    if (shapes !== 'embed.weight:10x8 norm.weight:8 norm.bias:8 out.weight:3x8 out.bias:3') throw new Error(`state: ${shapes}`);
    const w = await m.embed.weight.data();
    if (w.slice(0, 8).some((v) => v !== 0)) throw new Error('the padding row must start at zero');
    const ids = tensor(Int32Array.from([1, 2, 0, 3, 4, 5]), [6], 'i32');
    const labels = [0, 1, 2, 0, 1, 2];
    tidy(() => crossEntropyLoss(m.forward(ids), labels).backward());
    const g = await m.embed.weight.grad!.data();
    if (g.slice(0, 8).some((v) => v !== 0)) throw new Error('the padding row must get no gradient');
    if (!g.slice(8, 16).some((v) => v !== 0) || g.slice(6 * 8).some((v) => v !== 0)) throw new Error('rows read must get gradients, rows not read none');
    if (!m.norm.weight!.grad || !m.norm.bias!.grad) throw new Error('LayerNorm parameters got no gradient');
    ids.dispose();
    m.dispose();
  });

  it('BatchNorm1d normalises [N, C] and [N, C, L] with batch statistics in training', async () => {
    const bn = new BatchNorm1d(3, { affine: false });
    for (const shape of [[6, 3], [4, 3, 5]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xv = randomValues(n, 7, -2, 2);
      const out = noGrad(() => tidy(() => bn.forward(tensor(f32(xv), shape))));
      const inner = shape[2] ?? 1;
      const want = new Float64Array(n);
      for (let c = 0; c < 3; c++) {
        const idx: number[] = [];
        for (let i = 0; i < shape[0]!; i++) for (let l = 0; l < inner; l++) idx.push((i * 3 + c) * inner + l);
        const mu = idx.reduce((a, i) => a + xv[i]!, 0) / idx.length;
        const variance = idx.reduce((a, i) => a + (xv[i]! - mu) ** 2, 0) / idx.length;
        for (const i of idx) want[i] = (xv[i]! - mu) / Math.sqrt(variance + 1e-5);
      }
      expectClose(await out.data(), want, { atol: 1e-4, rtol: 1e-4 }, `BatchNorm1d [${shape}]`);
      out.dispose();
    }
    if (Object.keys(bn.stateDict()).join() !== 'running_mean,running_var') throw new Error('affine: false has no parameters');
    bn.dispose();
  });

  it('Conv2d with groups and dilation has PyTorch\'s weight shape and runs groupedConv2d', async () => {
    manualSeed(6);
    const dw = new Conv2d(6, 12, 3, { groups: 6, dilation: 2, padding: 2 });
    if (dw.weight.shape.join() !== '12,1,3,3') throw new Error(`depthwise weight [${dw.weight.shape}]`);
    // PyTorch's default init bound 1/√fanIn, fanIn = 1·3·3
    if ((await dw.weight.data()).some((v) => Math.abs(v) > 1 / 3)) throw new Error('init bound');
    const x = tensor(f32(randomValues(2 * 6 * 5 * 5, 9)), [2, 6, 5, 5]);
    const y = noGrad(() => tidy(() => dw.forward(x)));
    const want = noGrad(() => tidy(() => groupedConv2d(x, dw.weight, { groups: 6, dilation: 2, padding: 2, bias: dw.bias! })));
    if (y.shape.join() !== '2,12,5,5') throw new Error(`output [${y.shape}]`);
    expectClose(await y.data(), await want.data(), { atol: 0, rtol: 0 }, 'Conv2d groups');
    let msg = '';
    try { new Conv2d(6, 4, 3, { groups: 4 }); } catch (e) { msg = (e as Error).message; }
    if (!msg.includes('groups 4')) throw new Error(`unexpected error '${msg}'`);
    for (const t of [x, y, want]) t.dispose();
    dw.dispose();
  });
});

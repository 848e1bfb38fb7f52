import { Module } from './module.js';
import { fans, glorotUniform, kaimingUniform } from './init.js';
import { Random } from '../random.js';
import { tensor } from '../ops/creation/creation.js';
import { tidy } from '../memory.js';
import { liveTensors } from '../tensor.js';
import { expectClose } from '../testing/check.js';
/** Modules built from plain registered tensors; `forward` is not exercised here. */
let counter = 0;
const values = (n) => Float32Array.from({ length: n }, () => ++counter);
class Affine extends Module {
    weight = this.registerParameter('weight', tensor(values(6), [2, 3]));
    bias = this.registerParameter('bias', tensor(values(2), [2]));
    forward(x) { return x; }
}
class Norm extends Module {
    weight = this.registerParameter('weight', tensor(values(2), [2]));
    runningMean = this.registerBuffer('running_mean', tensor(values(2), [2]));
    forward(x) { return x; }
}
class Block extends Module {
    conv = new Affine();
    norm = new Norm();
    forward(x) { return x; }
}
class Net extends Module {
    stem = new Affine();
    blocks = [new Block(), new Block()];
    classifier;
    constructor() {
        super();
        this.classifier = this.registerModule('head', new Affine());
    }
    forward(x) { return x; }
}
const expectedParameters = [
    'head.weight', 'head.bias', 'stem.weight', 'stem.bias',
    'blocks.0.conv.weight', 'blocks.0.conv.bias', 'blocks.0.norm.weight',
    'blocks.1.conv.weight', 'blocks.1.conv.bias', 'blocks.1.norm.weight',
];
const expectedState = [
    'head.weight', 'head.bias', 'stem.weight', 'stem.bias',
    'blocks.0.conv.weight', 'blocks.0.conv.bias', 'blocks.0.norm.weight', 'blocks.0.norm.running_mean',
    'blocks.1.conv.weight', 'blocks.1.conv.bias', 'blocks.1.norm.weight', 'blocks.1.norm.running_mean',
];
function expectEqualLists(actual, expected, label) {
    if (actual.join() !== expected.join())
        throw new Error(`${label}: got [${actual.join(', ')}], expected [${expected.join(', ')}]`);
}
async function expectThrows(fn, ...fragments) {
    let msg = null;
    try {
        await fn();
    }
    catch (e) {
        msg = e.message;
    }
    if (msg === null)
        throw new Error(`expected an error mentioning ${fragments.join(', ')}`);
    for (const f of fragments)
        if (!msg.includes(f))
            throw new Error(`error '${msg}' does not mention ${f}`);
}
describe('nn.Module', () => {
    it('names parameters, buffers and state like PyTorch (registered modules, properties, arrays)', () => {
        const net = new Net();
        expectEqualLists([...net.namedParameters().keys()], expectedParameters, 'namedParameters');
        expectEqualLists([...net.namedBuffers().keys()], ['blocks.0.norm.running_mean', 'blocks.1.norm.running_mean'], 'namedBuffers');
        expectEqualLists(Object.keys(net.stateDict()), expectedState, 'stateDict');
        if (net.parameters().length !== expectedParameters.length || !net.parameters().every((p) => p.requiresGrad)) {
            throw new Error('parameters() must list every parameter, each requiring grad');
        }
        if (net.namedBuffers().get('blocks.0.norm.running_mean').requiresGrad)
            throw new Error('buffers do not require grad');
        net.dispose();
    });
    it('lists a tensor shared by two modules once, and rejects duplicate or dotted names', async () => {
        const a = new Affine();
        class Tied extends Module {
            first = a;
            second = a;
            forward(x) { return x; }
        }
        expectEqualLists([...new Tied().namedParameters().keys()], ['first.weight', 'first.bias'], 'shared module');
        await expectThrows(() => a.registerParameter('weight', tensor([1])), "'weight'", 'already registered');
        await expectThrows(() => a.registerBuffer('x.y', tensor([1])), "'x.y'");
        a.dispose();
    });
    it('train()/eval() reach every descendant', () => {
        const net = new Net().eval();
        if ([...net.namedModules().values()].some((m) => m.training))
            throw new Error('eval() left a module training');
        net.train();
        if ([...net.namedModules().values()].some((m) => !m.training))
            throw new Error('train() left a module in eval mode');
        net.dispose();
    });
    it('registered tensors outlive tidy; dispose() frees parameters, buffers and gradients', () => {
        const before = liveTensors();
        const net = tidy(() => new Net());
        if (net.parameters().some((p) => p.isDisposed))
            throw new Error('tidy disposed a parameter');
        for (const p of net.parameters())
            p.grad = tensor(values(p.size), p.shape);
        net.zeroGrad();
        if (net.parameters().some((p) => p.grad !== null))
            throw new Error('zeroGrad left a gradient');
        for (const p of net.parameters())
            p.grad = tensor(values(p.size), p.shape);
        net.dispose();
        if (liveTensors() !== before)
            throw new Error(`${liveTensors() - before} tensors leaked`);
    });
    it('stateDict → loadStateDict round trip, from tensors and from host data', async () => {
        const a = new Net();
        const b = new Net();
        b.loadStateDict(a.stateDict());
        const sa = a.stateDict();
        for (const [k, t] of Object.entries(b.stateDict()))
            expectClose(await t.data(), await sa[k].data(), { atol: 0, rtol: 0 }, k);
        const c = new Net();
        const host = Object.fromEntries(await Promise.all(Object.entries(sa).map(async ([k, t]) => [k, { shape: t.shape, data: await t.data() }])));
        c.loadStateDict(new Map(Object.entries(host)));
        for (const [k, t] of Object.entries(c.stateDict()))
            expectClose(await t.data(), host[k].data, { atol: 0, rtol: 0 }, k);
        for (const m of [a, b, c])
            m.dispose();
    });
    it('strict loading names missing and unexpected keys; shape errors name the key and copy nothing', async () => {
        const a = new Net();
        const b = new Net();
        const state = { ...a.stateDict() };
        delete state['blocks.1.norm.running_mean'];
        state['blocks.1.norm.num_batches_tracked'] = tensor([0]);
        await expectThrows(() => b.loadStateDict(state), 'missing keys: blocks.1.norm.running_mean', 'unexpected keys: blocks.1.norm.num_batches_tracked');
        const result = b.loadStateDict(state, { strict: false });
        expectEqualLists(result.missingKeys, ['blocks.1.norm.running_mean'], 'missingKeys');
        expectEqualLists(result.unexpectedKeys, ['blocks.1.norm.num_batches_tracked'], 'unexpectedKeys');
        expectClose(await b.stateDict()['stem.bias'].data(), await a.stateDict()['stem.bias'].data(), { atol: 0, rtol: 0 }, 'non-strict load');
        const c = new Net();
        const cBefore = await c.stateDict()['stem.bias'].data();
        const wrong = { ...a.stateDict(), 'blocks.0.conv.weight': tensor(values(6), [3, 2]) };
        await expectThrows(() => c.loadStateDict(wrong), "'blocks.0.conv.weight'", '[3,2]', '[2,3]');
        expectClose(await c.stateDict()['stem.bias'].data(), cBefore, { atol: 0, rtol: 0 }, 'nothing copied after a shape error');
        for (const m of [a, b, c])
            m.dispose();
    });
});
describe('nn init', () => {
    it('computes PyTorch fans and keeps Glorot/Kaiming values within their bounds, reproducibly', async () => {
        const shape = [8, 4, 3, 3];
        const { fanIn, fanOut } = fans(shape);
        if (fanIn !== 36 || fanOut !== 72)
            throw new Error(`fans of [${shape}]: ${fanIn}, ${fanOut}`);
        const cases = [
            ['glorotUniform', (rng) => glorotUniform(shape, { rng }), Math.sqrt(6 / (36 + 72))],
            ['kaimingUniform', (rng) => kaimingUniform(shape, { rng }), Math.sqrt(2) * Math.sqrt(3 / 36)],
            ['kaimingUniform a=√5', (rng) => kaimingUniform(shape, { rng, a: Math.sqrt(5) }), 1 / 6],
        ];
        for (const [name, make, bound] of cases) {
            const t1 = make(new Random(7));
            const t2 = make(new Random(7));
            const v = await t1.data();
            const maxAbs = Math.max(...Array.from(v, Math.abs));
            // 288 uniform draws: the largest magnitude lies within 2% of the bound unless the bound is wrong.
            if (maxAbs > bound || maxAbs < 0.98 * bound)
                throw new Error(`${name}: max |w| ${maxAbs}, bound ${bound}`);
            expectClose(await t2.data(), v, { atol: 0, rtol: 0 }, `${name} with the same seed`);
            t1.dispose();
            t2.dispose();
        }
    });
});
//# sourceMappingURL=module.test.js.map
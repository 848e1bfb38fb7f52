import assert from 'node:assert/strict';
import { tensor } from './ops/creation/creation.js';
import { mul, add } from './ops/elementwise/elementwise.js';
import { sum } from './ops/reduce/reduce.js';
import { tidy } from './memory.js';
import { liveTensorCount } from './memory.js';
describe('autograd', () => {
    it('backpropagates through a graph whose forward tensors were freed by tidy', async () => {
        const x = tensor([1, 2, 3]).requireGrad();
        const loss = tidy(() => sum(mul(add(x, x), x))); // 2x², intermediates disposed here
        loss.backward();
        assert.deepEqual([...(await x.grad.data())], [4, 8, 12]);
        loss.dispose();
        x.dispose();
    });
    it('accumulates gradients over two backward passes and frees the graph after each', async () => {
        const x = tensor([1, -2]).requireGrad();
        for (let i = 0; i < 2; i++) {
            const loss = sum(mul(x, x));
            loss.backward();
            assert.throws(() => loss.backward(), /already freed/);
            loss.dispose();
        }
        assert.deepEqual([...(await x.grad.data())], [4, -8]);
        x.dispose();
    });
    it('leaves no live tensors behind a tidy training-style step', () => {
        const w = tensor([0.5, 0.25]).requireGrad();
        const before = liveTensorCount();
        tidy(() => { sum(mul(w, w)).backward(); });
        w.grad.dispose();
        w.grad = null;
        assert.equal(liveTensorCount(), before);
        w.dispose();
    });
});
//# sourceMappingURL=autograd.test.js.map
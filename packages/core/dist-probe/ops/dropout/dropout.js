import { dropoutKernel, linearWorkgroups, ELEMENTWISE_WG, DROPOUT_HASH_BITS } from '@squeeze/kernels-wgsl';
import { allocTensor } from '../../tensor.js';
import { record } from '../../autograd.js';
import { Random } from '../../random.js';
// Seeds for calls that give none; reproducible runs pass their own (e.g. derived from the step).
const seedSource = new Random(0x5eed);
/**
 * Inverted dropout: in training each element is zeroed with probability p and survivors are scaled
 * by 1/(1−p), so evaluation (the identity, a view) needs no rescaling. The mask is a hash of
 * (seed, element index): the gradient regenerates it rather than storing it.
 */
export function dropout(x, p, opts) {
    if (!(p >= 0 && p <= 1))
        throw new Error(`dropout: p must be in [0, 1], got ${p}`);
    if (x.dtype !== 'f32')
        throw new Error(`dropout: needs an f32 tensor, got ${x.dtype}`);
    if (!opts.training || p === 0)
        return record(x.view(x.shape), 'dropout', [x], [], (g) => [g.view(g.shape)]);
    const seed = (opts.seed ?? seedSource.nextU32()) >>> 0;
    // an element survives when its 24-bit hash is ≥ p·2^24; p = 1 drops everything
    const uniforms = { n4: Math.ceil(x.size / 4), seed, threshold: Math.round(p * 2 ** DROPOUT_HASH_BITS), scale: p < 1 ? 1 / (1 - p) : 0 };
    const apply = (t) => {
        const y = allocTensor(t.shape);
        t.runtime.run(dropoutKernel, {}, [t, y], uniforms, linearWorkgroups(uniforms.n4, ELEMENTWISE_WG));
        return y;
    };
    return record(apply(x), 'dropout', [x], [], (g) => [apply(g)]);
}
//# sourceMappingURL=dropout.js.map
import { sizeOf } from '../tensor.js';
import { tensor, zeros } from '../ops/creation/creation.js';
import { Random } from '../random.js';
/**
 * Weight initialisers, drawn from a seedable `Random` so that a model built twice from the same
 * seed starts from the same weights. Layers take `rng` in their options; without one they use the
 * default generator, reseeded by `manualSeed`.
 */
let defaultRng = new Random(0);
/** Reseeds the generator layers use when no `rng` is given (like `torch.manual_seed`). */
export function manualSeed(seed) { defaultRng = new Random(seed); }
export function defaultRandom() { return defaultRng; }
/**
 * PyTorch's fans: for a weight [out, in, ...kernel], fanIn = in·|kernel| and fanOut = out·|kernel|;
 * a 1-D tensor has fanIn = fanOut = its size.
 */
export function fans(shape) {
    if (shape.length < 2)
        return { fanIn: sizeOf(shape), fanOut: sizeOf(shape) };
    const receptive = sizeOf(shape.slice(2));
    return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}
/** Values uniform in [−bound, bound). */
export function uniformInit(shape, bound, rng = defaultRng) {
    const v = new Float32Array(sizeOf(shape));
    for (let i = 0; i < v.length; i++)
        v[i] = rng.uniform(-bound, bound);
    return tensor(v, shape);
}
/** Glorot (Xavier) uniform: bound = gain·√(6 / (fanIn + fanOut)). */
export function glorotUniform(shape, opts = {}) {
    const { fanIn, fanOut } = fans(shape);
    return uniformInit(shape, (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut)), opts.rng);
}
/**
 * Kaiming (He) uniform for a leaky-ReLU of negative slope `a` (0: ReLU):
 * bound = √(2 / (1 + a²)) · √(3 / fan), fan = fanIn (default) or fanOut.
 */
export function kaimingUniform(shape, opts = {}) {
    const a = opts.a ?? 0;
    const f = fans(shape);
    const fan = opts.mode === 'fanOut' ? f.fanOut : f.fanIn;
    return uniformInit(shape, Math.sqrt(2 / (1 + a * a)) * Math.sqrt(3 / fan), opts.rng);
}
export function initLayerWeight(shape, init, rng) {
    switch (init) {
        case 'pytorch': return kaimingUniform(shape, { rng, a: Math.sqrt(5) });
        case 'kaimingUniform': return kaimingUniform(shape, { rng });
        case 'glorotUniform': return glorotUniform(shape, { rng });
    }
}
/** The bias of a layer whose weight has shape `weightShape`. */
export function initLayerBias(weightShape, init, rng) {
    const outFeatures = weightShape[0];
    if (init === 'pytorch')
        return uniformInit([outFeatures], 1 / Math.sqrt(fans(weightShape).fanIn), rng);
    return zeros([outFeatures]);
}
//# sourceMappingURL=init.js.map
import { DROPOUT_HASH_BITS } from '@squeeze/kernels-wgsl';
/** lowbias32 in u32 arithmetic, as the dropout kernel computes it. */
function lowbias32(x) {
    let h = x >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
}
/** Float64 reference of training-mode dropout with `seed`: the same hash, so the same mask. */
export function dropoutRef(x, p, seed) {
    const threshold = Math.round(p * 2 ** DROPOUT_HASH_BITS);
    const scale = 1 / (1 - p);
    const seedHash = lowbias32(seed);
    return Float64Array.from(x, (v, i) => ((lowbias32(lowbias32(i) ^ seedHash) >>> (32 - DROPOUT_HASH_BITS)) >= threshold ? v * scale : 0));
}
//# sourceMappingURL=reference.js.map
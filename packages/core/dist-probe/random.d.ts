/** A small seedable generator (xoshiro128**) so that initialisation and data order are reproducible. */
export declare class Random {
    private s;
    constructor(seed: number);
    /** uniform 32-bit integer */
    nextU32(): number;
    /** uniform in [0, 1) */
    next(): number;
    uniform(lo: number, hi: number): number;
    /** standard normal (Box–Muller) */
    normal(): number;
    /** integer in [0, n) */
    int(n: number): number;
    /** Fisher–Yates permutation of 0..n-1 */
    permutation(n: number): Uint32Array;
}

/** Float64 reference of training-mode dropout with `seed`: the same hash, so the same mask. */
export declare function dropoutRef(x: ArrayLike<number>, p: number, seed: number): Float64Array;

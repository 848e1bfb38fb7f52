/** Plain float64 references for the softmax family. */
/** softmax or log-softmax of a row-major tensor along `axis` (non-negative). */
export declare function softmaxRef(x: ArrayLike<number>, shape: readonly number[], axis: number, log?: boolean): Float64Array;
/** Cross-entropy rows (lse − x[label])·mask, reduced as `softmaxCrossEntropy` does. */
export declare function crossEntropyRef(logits: ArrayLike<number>, N: number, C: number, labels: ArrayLike<number>, mask: ArrayLike<number> | undefined, reduction: 'mean' | 'sum' | 'none'): Float64Array;

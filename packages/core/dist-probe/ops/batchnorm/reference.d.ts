/** Plain float64 reference for batch normalisation (and its fused ReLU). */
export interface BatchNormRefOptions {
    weight?: Float64Array | null;
    bias?: Float64Array | null;
    runningMean: Float64Array;
    runningVar: Float64Array;
    training: boolean;
    momentum: number;
    eps: number;
    dataFormat: 'NCHW' | 'NHWC';
    relu?: boolean;
}
export interface BatchNormRefResult {
    y: Float64Array;
    /** the running stats after the call (updated in training, unchanged in eval) */
    runningMean: Float64Array;
    runningVar: Float64Array;
}
/** Channel of each element: axis 1 for NCHW (and rank 2), the last axis for NHWC. */
export declare function channelIndex(shape: number[], dataFormat: 'NCHW' | 'NHWC'): {
    c: number;
    of: (i: number) => number;
};
export declare function batchNormRef(x: Float64Array, shape: number[], o: BatchNormRefOptions): BatchNormRefResult;

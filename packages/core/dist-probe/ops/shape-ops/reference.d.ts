export declare function permuteRef(x: ArrayLike<number>, shape: readonly number[], dims: readonly number[]): Float64Array;
export declare function sliceRef(x: ArrayLike<number>, shape: readonly number[], begin: readonly number[], size: readonly number[]): Float64Array;
export declare function padRef(x: ArrayLike<number>, shape: readonly number[], paddings: ReadonlyArray<readonly [number, number]>, value?: number): Float64Array;
export declare function concatRef(xs: ReadonlyArray<ArrayLike<number>>, shapes: ReadonlyArray<readonly number[]>, axis: number): Float64Array;

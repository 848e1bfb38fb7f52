/** Plain float64 references for the element-wise ops. */
export declare const UNARY_REF: Record<string, (x: number) => number>;
export declare const BINARY_REF: Record<string, (a: number, b: number) => number>;
export declare function binaryRef(f: (a: number, b: number) => number, a: Float64Array, as: number[], b: Float64Array, bs: number[]): Float64Array;

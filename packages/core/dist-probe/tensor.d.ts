import { type Bindable, type Runtime } from './runtime/runtime.js';
import type { GradNode } from './autograd.js';
export type DType = 'f32' | 'i32';
export type Shape = readonly number[];
export declare function sizeOf(shape: Shape): number;
/** A GPU buffer shared by a tensor and its views (reshape) and by autograd nodes that saved it. */
export declare class Storage implements Bindable {
    readonly runtime: Runtime;
    readonly buffer: GPUBuffer;
    readonly byteLength: number;
    private refs;
    constructor(runtime: Runtime, buffer: GPUBuffer, byteLength: number);
    retain(): this;
    release(): void;
    get alive(): boolean;
}
export declare class Tensor implements Bindable {
    readonly shape: Shape;
    readonly dtype: DType;
    readonly id: number;
    readonly size: number;
    requiresGrad: boolean;
    grad: Tensor | null;
    /** The autograd node that produced this tensor (null for leaves and no-grad results). */
    node: GradNode | null;
    name?: string;
    private storage_;
    constructor(storage: Storage, shape: Shape, dtype?: DType);
    get storage(): Storage;
    get buffer(): GPUBuffer;
    /** Bytes this tensor's elements occupy (its buffer may be larger: buffers are pooled by bucket). */
    get byteLength(): number;
    get rank(): number;
    get isDisposed(): boolean;
    get runtime(): Runtime;
    dispose(): void;
    /** Reads the values back (flat, row-major). */
    data(): Promise<Float32Array | Int32Array>;
    /** Reads the values back as nested arrays shaped like the tensor. */
    array(): Promise<unknown>;
    /** The single value of a one-element tensor. */
    item(): Promise<number>;
    /** A tensor sharing this one's storage with another shape of the same size (no copy). */
    view(shape: Shape): Tensor;
    /** Marks the tensor as a leaf whose gradient backward() fills. */
    requireGrad(flag?: boolean): this;
    toString(): string;
}
export declare function allocTensor(shape: Shape, dtype?: DType, runtime?: Runtime): Tensor;
export declare function liveTensors(): number;

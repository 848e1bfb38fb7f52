import { PipelineCache, type Kernel } from '@squeeze/kernels-wgsl';
import { BufferPool } from './buffer-pool.js';
import { type DeviceDescription } from './device.js';
/** Something a kernel can bind: a GPU buffer and how many of its bytes the tensor uses. */
export interface Bindable {
    readonly buffer: GPUBuffer;
    readonly byteLength: number;
}
export interface KernelSpan {
    /** layer scope and kernel, e.g. `fire3/expand3x3/conv2d_backward_filter`. */
    name: string;
    kernel: string;
    pipelineKey: string;
    workgroups: [number, number, number];
    args?: Record<string, unknown>;
    /** GPU timestamps in nanoseconds (set once the trace is resolved). */
    startNs?: number;
    endNs?: number;
}
export declare class GpuError extends Error {
    name: string;
}
/**
 * The runtime owns a device, its pipeline cache, its buffer pool and the command encoder that
 * kernels are recorded into. Work is submitted in batches; nothing waits on the CPU unless a value is read.
 */
export declare class Runtime {
    readonly device: GPUDevice;
    readonly description: DeviceDescription;
    readonly cache: PipelineCache;
    readonly pool: BufferPool;
    private encoder;
    private dispatches;
    private uniformArena;
    private uniformBytes;
    private uniformUsed;
    private stagingFree;
    private scopes;
    private firstError;
    private trace;
    private destroyed;
    readonly counters: {
        dispatches: number;
        submits: number;
        reads: number;
    };
    constructor(device: GPUDevice, description: DeviceDescription);
    static open(opts?: {
        adapter?: string;
    }): Promise<Runtime>;
    get hasTimestamps(): boolean;
    /** Runs `fn` with `name` pushed on the scope stack that names traced kernels (`layer/op`). */
    scope<T>(name: string, fn: () => T): T;
    get scopeName(): string;
    /** Runs `fn` with the whole scope path replaced (backward kernels run under their forward's scope). */
    withScopePath<T>(path: string, fn: () => T): T;
    /** Records one kernel dispatch into the current command encoder. */
    run<P>(kernel: Kernel<P>, params: P, bindings: readonly Bindable[], uniforms: Record<string, number | ArrayLike<number>>, workgroups: [number, number, number], args?: Record<string, unknown>): void;
    /** Copies `size` bytes between buffers in stream order. */
    copy(src: Bindable, dst: Bindable, bytes: number, srcOffset?: number, dstOffset?: number): void;
    /** Uploads host data. Ordered after all work recorded so far (the pending encoder is submitted first). */
    write(dst: Bindable, data: ArrayBufferView, dstOffset?: number): void;
    /** Submits everything recorded so far. */
    flush(): void;
    /**
     * Reads bytes back. The copy goes through a mapped staging buffer; waiting on its mapAsync is
     * the one completion signal we use (no onSubmittedWorkDone — see README: it crashed Dawn 0.6.2).
     */
    read(src: Bindable, bytes?: number, srcOffset?: number): Promise<ArrayBuffer>;
    /** Waits until every submitted command has completed (a 4-byte read acts as the fence). */
    sync(): Promise<void>;
    /** Starts recording GPU timestamps around every kernel (needs 'timestamp-query'). */
    beginTrace(): void;
    /** Stops recording and resolves all timestamps with one query resolve and one read. */
    endTrace(): Promise<KernelSpan[]>;
    destroy(): void;
    private checkAlive;
    private acquireStaging;
    private releaseStaging;
}

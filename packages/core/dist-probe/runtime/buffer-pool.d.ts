/**
 * A size-bucketed pool of storage buffers. A released buffer becomes reusable only after the
 * command buffer that last used it was submitted (`onSubmit`), so a queue.writeBuffer into a reused
 * buffer can never overtake commands still waiting to be submitted.
 */
export declare const STORAGE_USAGE: number;
export interface PoolStats {
    /** bytes in buffers handed out (bucket sizes). */
    bytesInUse: number;
    /** bytes in buffers waiting for reuse. */
    bytesPooled: number;
    /** the most bytes (in use + pooled) ever allocated at once. */
    highWater: number;
    buffersInUse: number;
    buffersCreated: number;
}
/** Bucket sizes: powers of two up to 1 MiB, then steps of 1/8 of the enclosing power of two. */
export declare function bucketSize(bytes: number): number;
export declare class BufferPool {
    private readonly device;
    private free;
    private awaitingSubmit;
    private stats_;
    constructor(device: GPUDevice);
    acquire(bytes: number): GPUBuffer;
    release(buffer: GPUBuffer): void;
    /** Called right after a submit: buffers released before it may now be handed out again. */
    onSubmit(): void;
    get pendingCount(): number;
    /** Destroys every pooled (not in use) buffer. */
    trim(): void;
    stats(): PoolStats;
    resetHighWater(): void;
}

export interface MemoryInfo {
    /** tensors created and not yet disposed (views and autograd-saved views count separately). */
    liveTensors: number;
    /** bytes of GPU buffers handed out to tensors (bucket sizes). */
    bytesInUse: number;
    /** bytes of GPU buffers waiting in the pool for reuse. */
    bytesPooled: number;
    /** the most bytes (in use + pooled) the pool ever held at once. */
    poolHighWater: number;
    /** GPU buffers created since the runtime opened; constant once a training loop reaches a steady state. */
    buffersCreated: number;
}
/** A snapshot of tensor and GPU-buffer accounting, to spot leaks in training loops. */
export declare function memory(): MemoryInfo;

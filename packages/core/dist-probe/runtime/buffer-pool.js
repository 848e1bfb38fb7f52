/**
 * A size-bucketed pool of storage buffers. A released buffer becomes reusable only after the
 * command buffer that last used it was submitted (`onSubmit`), so a queue.writeBuffer into a reused
 * buffer can never overtake commands still waiting to be submitted.
 */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */
/** Bucket sizes: powers of two up to 1 MiB, then steps of 1/8 of the enclosing power of two. */
export function bucketSize(bytes) {
    const n = Math.max(16, Math.ceil(bytes / 16) * 16);
    const pow = 2 ** Math.ceil(Math.log2(n));
    if (pow <= 1 << 20)
        return pow;
    const step = pow / 16;
    return Math.ceil(n / step) * step;
}
export class BufferPool {
    device;
    free = new Map();
    awaitingSubmit = [];
    stats_ = { bytesInUse: 0, bytesPooled: 0, highWater: 0, buffersInUse: 0, buffersCreated: 0 };
    constructor(device) {
        this.device = device;
    }
    acquire(bytes) {
        const size = bucketSize(bytes);
        const list = this.free.get(size);
        let buffer = list?.pop();
        if (buffer) {
            this.stats_.bytesPooled -= size;
        }
        else {
            buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
            this.stats_.buffersCreated++;
        }
        this.stats_.bytesInUse += size;
        this.stats_.buffersInUse++;
        this.stats_.highWater = Math.max(this.stats_.highWater, this.stats_.bytesInUse + this.stats_.bytesPooled);
        return buffer;
    }
    release(buffer) {
        this.stats_.bytesInUse -= buffer.size;
        this.stats_.buffersInUse--;
        this.stats_.bytesPooled += buffer.size;
        this.awaitingSubmit.push(buffer);
    }
    /** Called right after a submit: buffers released before it may now be handed out again. */
    onSubmit() {
        for (const b of this.awaitingSubmit) {
            let list = this.free.get(b.size);
            if (!list)
                this.free.set(b.size, (list = []));
            list.push(b);
        }
        this.awaitingSubmit = [];
    }
    get pendingCount() { return this.awaitingSubmit.length; }
    /** Destroys every pooled (not in use) buffer. */
    trim() {
        for (const list of this.free.values())
            for (const b of list) {
                this.stats_.bytesPooled -= b.size;
                b.destroy();
            }
        this.free.clear();
    }
    stats() { return { ...this.stats_ }; }
    resetHighWater() { this.stats_.highWater = this.stats_.bytesInUse + this.stats_.bytesPooled; }
}
//# sourceMappingURL=buffer-pool.js.map
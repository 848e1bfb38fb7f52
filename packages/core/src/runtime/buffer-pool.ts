/**
 * A size-bucketed pool of storage buffers. A released buffer becomes reusable only after the
 * command buffer that last used it was submitted (`onSubmit`), so a queue.writeBuffer into a reused
 * buffer can never overtake commands still waiting to be submitted.
 */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

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
export function bucketSize(bytes: number): number {
  const n = Math.max(16, Math.ceil(bytes / 16) * 16);
  const pow = 2 ** Math.ceil(Math.log2(n));
  if (pow <= 1 << 20) return pow;
  const step = pow / 16;
  return Math.ceil(n / step) * step;
}

/**
 * Free buffers are handed out lowest creation number first (each bucket's list is kept sorted, the
 * lowest last), not last released first: a training step's sequence of acquires and releases is the
 * same every step, so every step then binds the same buffers at the same kernels, and the runtime's
 * bind groups are made once (a pop-the-last-released pool permuted the assignment from step to step:
 * 231 of 405 bind groups per step missed the cache).
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private serial = new Map<GPUBuffer, number>();
  private awaitingSubmit: GPUBuffer[] = [];
  private stats_: PoolStats = { bytesInUse: 0, bytesPooled: 0, highWater: 0, buffersInUse: 0, buffersCreated: 0 };
  /**
   * Released buffers are reusable at once, not after the next submit: set by the runtime while it
   * only collects pipelines (nothing recorded, everything earlier submitted), so that a warm-up's
   * tensors reuse each other's buffers as a real step's do.
   */
  reuseAtOnce = false;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.stats_.bytesPooled -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.serial.set(buffer, this.stats_.buffersCreated++);
    }
    this.stats_.bytesInUse += size;
    this.stats_.buffersInUse++;
    this.stats_.highWater = Math.max(this.stats_.highWater, this.stats_.bytesInUse + this.stats_.bytesPooled);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.stats_.bytesInUse -= buffer.size;
    this.stats_.buffersInUse--;
    this.stats_.bytesPooled += buffer.size;
    this.awaitingSubmit.push(buffer);
    if (this.reuseAtOnce) this.onSubmit();
  }

  /** Called right after a submit: buffers released before it may now be handed out again. */
  onSubmit(): void {
    for (const b of this.awaitingSubmit) {
      let list = this.free.get(b.size);
      if (!list) this.free.set(b.size, (list = []));
      // Binary search for b's place in the descending list (tests hold thousands of small buffers).
      const n = this.serial.get(b)!;
      let lo = 0, hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.serial.get(list[mid]!)! > n) lo = mid + 1; else hi = mid;
      }
      list.splice(lo, 0, b);
    }
    this.awaitingSubmit = [];
  }

  get pendingCount(): number { return this.awaitingSubmit.length; }

  /** Destroys every pooled (not in use) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) { this.stats_.bytesPooled -= b.size; this.serial.delete(b); b.destroy(); }
    this.free.clear();
  }

  stats(): PoolStats { return { ...this.stats_ }; }
  resetHighWater(): void { this.stats_.highWater = this.stats_.bytesInUse + this.stats_.bytesPooled; }
}

import type { Bindable } from './runtime.js';

/** Bytes of the failure record a check kernel writes: [code, a, b, unused] as u32. */
export const CHECK_RECORD_BYTES = 16;

/** What a read captures before copying the record: how many checks had been armed. */
export interface CheckSnapshot { armed: number }

/**
 * Checks that kernels make on values the CPU never sees (class labels computed on the GPU): a check
 * kernel writes its code and two numbers into one small buffer when it fails, unless an earlier
 * failure is already there. The next read-back copies that record along with its data, and the read
 * throws the failed check's one-line message. Reads cost nothing extra while no check is pending.
 */
export class DeferredChecks {
  private buffer: GPUBuffer | null = null;
  private readonly describers: Array<(a: number, b: number) => string> = [];
  private readonly codes = new Map<string, number>();
  private armed = 0;
  private settled = 0;

  constructor(private readonly device: GPUDevice) {}

  /**
   * The record to bind to a check kernel, and the code it writes on failure; `key` names the check
   * (one code per key), `describe(a, b)` gives its error line from the numbers the kernel wrote.
   */
  arm(key: string, describe: (a: number, b: number) => string): { record: Bindable; code: number } {
    // WebGPU zero-initialises buffers: no failure recorded
    this.buffer ??= this.device.createBuffer({ size: CHECK_RECORD_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    let code = this.codes.get(key);
    if (code === undefined) {
      this.describers.push(describe);
      code = this.describers.length;
      this.codes.set(key, code);
    }
    this.armed++;
    return { record: { buffer: this.buffer, byteLength: CHECK_RECORD_BYTES }, code };
  }

  /** The record's buffer when a check is pending (the read copies it after its data), else null. */
  pending(): { buffer: GPUBuffer; snapshot: CheckSnapshot } | null {
    return this.buffer && this.armed > this.settled ? { buffer: this.buffer, snapshot: { armed: this.armed } } : null;
  }

  /**
   * The error line of the record a read copied (then cleared for the next checks), or null when
   * every check armed before that read passed.
   */
  settle(words: Uint32Array, snapshot: CheckSnapshot): string | null {
    const code = words[0]!;
    if (code === 0) {
      this.settled = Math.max(this.settled, snapshot.armed);
      return null;
    }
    this.device.queue.writeBuffer(this.buffer!, 0, new Uint32Array(CHECK_RECORD_BYTES / 4));
    this.settled = Math.max(this.settled, snapshot.armed);
    const describe = this.describers[code - 1];
    return describe ? describe(words[1]!, words[2]!) : `a GPU check failed (code ${code})`;
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = null;
  }
}

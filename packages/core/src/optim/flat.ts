import { Tensor, allocTensor, type Storage } from '../tensor.js';
import { keep } from '../memory.js';
import type { Bindable } from '../runtime/runtime.js';

/**
 * Floats between parameter slots: binding offsets must be multiples of
 * minStorageBufferOffsetAlignment, which WebGPU caps at 256 bytes on every device.
 */
export const SLOT_ALIGN_FLOATS = 64;

/** Floats [offset, offset + length) of a flat buffer: parameters first … last, the padding between them included. */
export interface FlatRange { offset: number; length: number }

/**
 * An optimizer's parameters, their gradients and their state as slots of flat buffers, so that
 * one dispatch updates every parameter whatever the device's storage-buffer limit. Each parameter
 * tensor is moved onto its slot of the flat parameter buffer (its values copied, then bound at the
 * slot's offset by every kernel); gradients, which autograd makes fresh each step, are copied
 * into their slots (copies, not dispatches). Slots start at multiples of SLOT_ALIGN_FLOATS; the
 * padding between them stays zero in the gradients, so the update leaves it at zero.
 */
export class FlatParams {
  /** per parameter: its slot's first float. */
  readonly offsets: number[];
  /** floats in each flat buffer. */
  readonly length: number;
  private readonly params: Tensor;
  private readonly grads: Tensor;
  private readonly state = new Map<string, Tensor>();
  /** per parameter: the slot storage it was moved onto (it may since have been moved elsewhere). */
  private readonly homes: Storage[] = [];

  constructor(private readonly tensors: readonly Tensor[]) {
    this.offsets = [];
    let end = 0;
    for (const t of tensors) {
      this.offsets.push(end);
      end += Math.ceil(t.size / SLOT_ALIGN_FLOATS) * SLOT_ALIGN_FLOATS;
    }
    this.length = Math.max(SLOT_ALIGN_FLOATS, end);
    this.params = this.zeroBuffer();
    this.grads = this.zeroBuffer();
    tensors.forEach((_, i) => this.home(i));
  }

  /** The flat buffer of the state `name` (zeros when made). */
  stateBuffer(name: string): Tensor {
    let t = this.state.get(name);
    if (!t) this.state.set(name, (t = this.zeroBuffer()));
    return t;
  }

  /** A zeroed tensor shaped like parameter `i` over its slot of the state `name` (the optimizer's state tensor of that parameter). */
  stateSlot(name: string, i: number): Tensor {
    const flat = this.stateBuffer(name);
    const param = this.tensors[i]!;
    const t = keep(new Tensor(flat.storage.slice(this.offsets[i]! * 4, param.byteLength), param.shape));
    if (t.size > 0) t.runtime.write(t, new Float32Array(t.size));
    return t;
  }

  /** Moves parameter `i` back onto its slot (copying its values) if something moved it elsewhere. */
  home(i: number): void {
    const param = this.tensors[i]!;
    if (param.storage === this.homes[i]) return;
    const slot = this.params.storage.slice(this.offsets[i]! * 4, param.byteLength);
    if (param.size > 0) param.runtime.copy(param, slot, param.byteLength);
    param.moveTo(slot);
    this.homes[i] = slot;
  }

  /** Copies parameter `i`'s gradient into its slot of the flat gradients. */
  gatherGrad(i: number, grad: Tensor): void {
    if (grad.size > 0) grad.runtime.copy(grad, this.grads, grad.byteLength, 0, this.offsets[i]! * 4);
  }

  /** The parameters, gradients and each state of `names` over `r`, to bind in one dispatch. */
  bindings(r: FlatRange, names: readonly string[]): { params: Bindable; grads: Bindable; state: Record<string, Bindable> } {
    const view = (t: Tensor): Bindable => ({ buffer: t.buffer, byteOffset: t.byteOffset + r.offset * 4, byteLength: r.length * 4 });
    return { params: view(this.params), grads: view(this.grads), state: Object.fromEntries(names.map((k) => [k, view(this.stateBuffer(k))])) };
  }

  /**
   * The ranges covering runs of consecutive parameters `indices` (ascending) that share a key
   * (their step count), none longer than `maxBytes` unless one parameter alone is.
   */
  ranges(indices: readonly number[], keyOf: (i: number) => number, maxBytes: number): Array<FlatRange & { key: number }> {
    const out: Array<FlatRange & { key: number }> = [];
    let prev = -2;
    for (const i of indices) {
      const offset = this.offsets[i]!;
      const end = offset + this.tensors[i]!.size;
      const last = out.at(-1);
      if (last && prev === i - 1 && last.key === keyOf(i) && (end - last.offset) * 4 <= maxBytes) last.length = end - last.offset;
      else out.push({ offset, length: end - offset, key: keyOf(i) });
      prev = i;
    }
    return out;
  }

  /** Frees the flat buffers (parameters still on their slots keep the parameter buffer alive). */
  dispose(): void {
    this.params.dispose();
    this.grads.dispose();
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
  }

  private zeroBuffer(): Tensor {
    const t = keep(allocTensor([this.length], 'f32', this.tensors[0]?.runtime));
    t.runtime.write(t, new Float32Array(this.length));
    return t;
  }
}

import { DeviceLimitError } from './runtime/errors.js';
import type { Bindable, Runtime } from './runtime/runtime.js';
import { bucketSize } from './runtime/buffer-pool.js';
import { getRuntime } from './runtime/global.js';
import { track, untrack, liveTensorCount, noteDisposed, registerTensorClass } from './memory.js';
import type { GradNode } from './autograd.js';

export type DType = 'f32' | 'i32';
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A GPU buffer shared by a tensor and its views (reshape) and by autograd nodes that saved it; or
 * a slice of another storage's buffer (`slice`), which keeps that storage alive.
 */
export class Storage implements Bindable {
  private refs = 1;
  constructor(
    readonly runtime: Runtime, readonly buffer: GPUBuffer, readonly byteLength: number,
    readonly byteOffset = 0, private readonly parent: Storage | null = null,
  ) {}
  retain(): this { this.refs++; return this; }
  release(): void {
    if (--this.refs === 0) {
      if (this.parent) this.parent.release();
      else this.runtime.pool.release(this.buffer);
    }
    if (this.refs < 0) throw new Error('storage released twice');
  }
  /**
   * `byteLength` bytes of this storage from `byteOffset`, as a storage of their own (kernels bind
   * it at that offset, which must be a multiple of minStorageBufferOffsetAlignment).
   */
  slice(byteOffset: number, byteLength: number): Storage {
    if (byteOffset < 0 || byteOffset + byteLength > this.byteLength) throw new Error(`storage slice [${byteOffset}, ${byteOffset + byteLength}) outside ${this.byteLength} bytes`);
    return new Storage(this.runtime, this.buffer, byteLength, this.byteOffset + byteOffset, this.retain());
  }
  get alive(): boolean { return this.refs > 0; }
}

let nextId = 1;

// Safety net only: tensors dropped without dispose() give their buffer back when collected.
const finalizer = new FinalizationRegistry<Storage>((s) => { if (s.alive) { s.release(); noteDisposed(); } });

export class Tensor implements Bindable {
  readonly id = nextId++;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves and no-grad results). */
  node: GradNode | null = null;
  name?: string;
  /**
   * The values an int32 tensor was made from on the host (`tensor(Int32Array…)`), kept so that
   * class labels can be checked without a read-back; no kernel writes an int32 tensor in place.
   */
  hostValues?: Int32Array;
  private storage_: Storage | null;

  constructor(storage: Storage, readonly shape: Shape, readonly dtype: DType = 'f32') {
    this.size = sizeOf(shape);
    this.storage_ = storage;
    finalizer.register(this, storage, this);
    track(this);
  }

  get storage(): Storage {
    if (!this.storage_) throw new Error(`tensor #${this.id}${this.name ? ` (${this.name})` : ''} [${this.shape}] was disposed`);
    return this.storage_;
  }
  get buffer(): GPUBuffer { return this.storage.buffer; }
  /** Where this tensor's bytes start in its buffer (non-zero for a slice of a larger buffer). */
  get byteOffset(): number { return this.storage.byteOffset; }
  /** Bytes this tensor's elements occupy (its buffer may be larger: buffers are pooled by bucket). */
  get byteLength(): number { return this.size * 4; }
  get rank(): number { return this.shape.length; }
  get isDisposed(): boolean { return this.storage_ === null; }
  get runtime(): Runtime { return this.storage.runtime; }

  dispose(): void {
    if (!this.storage_) return;
    finalizer.unregister(this);
    this.storage_.release();
    this.storage_ = null;
    if (this.grad) { this.grad.dispose(); this.grad = null; }
    untrack(this);
    noteDisposed();
  }

  /** Reads the values back (flat, row-major). */
  async data(): Promise<Float32Array | Int32Array> {
    const bytes = await this.runtime.read(this, this.byteLength);
    return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** Reads the values back as nested arrays shaped like the tensor. */
  async array(): Promise<unknown> {
    const flat = Array.from(await this.data());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got shape [${this.shape}]`);
    return (await this.data())[0]!;
  }

  /** A tensor sharing this one's storage with another shape of the same size (no copy). */
  view(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) throw new Error(`cannot view [${this.shape}] as [${shape}]: sizes differ`);
    return new Tensor(this.storage.retain(), shape, this.dtype);
  }

  /**
   * Moves the tensor onto `storage` (which must hold its bytes, already filled) and releases its
   * old one: an optimizer places its parameters in one flat buffer this way. Views made from the
   * tensor before keep the old storage.
   */
  moveTo(storage: Storage): void {
    if (storage.byteLength < this.byteLength) throw new Error(`moveTo: ${storage.byteLength} bytes cannot hold tensor [${this.shape}]`);
    const old = this.storage;
    finalizer.unregister(this);
    this.storage_ = storage;
    finalizer.register(this, storage, this);
    old.release();
  }

  /** Marks the tensor as a leaf whose gradient backward() fills. */
  requireGrad(flag = true): this { this.requiresGrad = flag; return this; }

  toString(): string { return `Tensor(#${this.id}, [${this.shape}], ${this.dtype})`; }
}

export function allocTensor(shape: Shape, dtype: DType = 'f32', runtime: Runtime = getRuntime()): Tensor {
  const bytes = Math.max(4, sizeOf(shape) * 4);
  // Checked here because Dawn only reports an oversized buffer later, as an uncaptured validation
  // error that would fail whatever GPU call comes next, with a message that names no cause.
  // From the description's copy: reading device.limits crosses into Dawn on every allocation.
  const limit = runtime.description.limits.maxBufferSize;
  const bufferBytes = bucketSize(bytes);
  if (bufferBytes > limit) {
    throw new DeviceLimitError(`a [${shape}] tensor needs a ${bufferBytes}-byte buffer, more than maxBufferSize (${limit} bytes) on this device`, 'maxBufferSize');
  }
  const buffer = runtime.pool.acquire(bytes);
  return new Tensor(new Storage(runtime, buffer, bytes), [...shape], dtype);
}

export function liveTensors(): number { return liveTensorCount(); }

registerTensorClass(Tensor);

import { GpuError } from './runtime/runtime.js';
import { bucketSize } from './runtime/buffer-pool.js';
import { getRuntime } from './runtime/global.js';
import { track, untrack, liveTensorCount, noteDisposed, registerTensorClass } from './memory.js';
export function sizeOf(shape) {
    let n = 1;
    for (const d of shape)
        n *= d;
    return n;
}
/** A GPU buffer shared by a tensor and its views (reshape) and by autograd nodes that saved it. */
export class Storage {
    runtime;
    buffer;
    byteLength;
    refs = 1;
    constructor(runtime, buffer, byteLength) {
        this.runtime = runtime;
        this.buffer = buffer;
        this.byteLength = byteLength;
    }
    retain() { this.refs++; return this; }
    release() {
        if (--this.refs === 0)
            this.runtime.pool.release(this.buffer);
        if (this.refs < 0)
            throw new Error('storage released twice');
    }
    get alive() { return this.refs > 0; }
}
let nextId = 1;
// Safety net only: tensors dropped without dispose() give their buffer back when collected.
const finalizer = new FinalizationRegistry((s) => { if (s.alive) {
    s.release();
    noteDisposed();
} });
export class Tensor {
    shape;
    dtype;
    id = nextId++;
    size;
    requiresGrad = false;
    grad = null;
    /** The autograd node that produced this tensor (null for leaves and no-grad results). */
    node = null;
    name;
    storage_;
    constructor(storage, shape, dtype = 'f32') {
        this.shape = shape;
        this.dtype = dtype;
        this.size = sizeOf(shape);
        this.storage_ = storage;
        finalizer.register(this, storage, this);
        track(this);
    }
    get storage() {
        if (!this.storage_)
            throw new Error(`tensor #${this.id}${this.name ? ` (${this.name})` : ''} [${this.shape}] was disposed`);
        return this.storage_;
    }
    get buffer() { return this.storage.buffer; }
    /** Bytes this tensor's elements occupy (its buffer may be larger: buffers are pooled by bucket). */
    get byteLength() { return this.size * 4; }
    get rank() { return this.shape.length; }
    get isDisposed() { return this.storage_ === null; }
    get runtime() { return this.storage.runtime; }
    dispose() {
        if (!this.storage_)
            return;
        finalizer.unregister(this);
        this.storage_.release();
        this.storage_ = null;
        if (this.grad) {
            this.grad.dispose();
            this.grad = null;
        }
        untrack(this);
        noteDisposed();
    }
    /** Reads the values back (flat, row-major). */
    async data() {
        const bytes = await this.runtime.read(this, this.byteLength);
        return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
    }
    /** Reads the values back as nested arrays shaped like the tensor. */
    async array() {
        const flat = Array.from(await this.data());
        const build = (dim, offset) => {
            if (dim === this.shape.length)
                return flat[offset];
            const stride = sizeOf(this.shape.slice(dim + 1));
            return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
        };
        return build(0, 0);
    }
    /** The single value of a one-element tensor. */
    async item() {
        if (this.size !== 1)
            throw new Error(`item() needs a one-element tensor, got shape [${this.shape}]`);
        return (await this.data())[0];
    }
    /** A tensor sharing this one's storage with another shape of the same size (no copy). */
    view(shape) {
        if (sizeOf(shape) !== this.size)
            throw new Error(`cannot view [${this.shape}] as [${shape}]: sizes differ`);
        return new Tensor(this.storage.retain(), shape, this.dtype);
    }
    /** Marks the tensor as a leaf whose gradient backward() fills. */
    requireGrad(flag = true) { this.requiresGrad = flag; return this; }
    toString() { return `Tensor(#${this.id}, [${this.shape}], ${this.dtype})`; }
}
export function allocTensor(shape, dtype = 'f32', runtime = getRuntime()) {
    const bytes = Math.max(4, sizeOf(shape) * 4);
    // Checked here because Dawn only reports an oversized buffer later, as an uncaptured validation
    // error that would fail whatever GPU call comes next, with a message that names no cause.
    const limit = runtime.device.limits.maxBufferSize;
    const bufferBytes = bucketSize(bytes);
    if (bufferBytes > limit) {
        throw new GpuError(`a [${shape}] tensor needs a ${bufferBytes}-byte buffer, more than maxBufferSize (${limit} bytes) on this device; use a smaller --batch_size`);
    }
    const buffer = runtime.pool.acquire(bytes);
    return new Tensor(new Storage(runtime, buffer, bytes), [...shape], dtype);
}
export function liveTensors() { return liveTensorCount(); }
registerTensorClass(Tensor);
//# sourceMappingURL=tensor.js.map
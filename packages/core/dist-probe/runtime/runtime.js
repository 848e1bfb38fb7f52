import { PipelineCache } from '@squeeze/kernels-wgsl';
import { BufferPool } from './buffer-pool.js';
import { openDevice } from './device.js';
/** Uniforms of all dispatches of one command encoder share one buffer, 256-byte aligned slots. */
const UNIFORM_ARENA_BYTES = 64 * 1024;
const UNIFORM_SLOT = 256;
/** Submitting every so many dispatches lets released buffers be reused within a training step. */
const DISPATCHES_PER_SUBMIT = 96;
/** WebGPU allows at most 4096 queries per query set: two timestamps per traced kernel. */
const MAX_TRACED_PASSES = 2048;
export class GpuError extends Error {
    name = 'GpuError';
}
/**
 * The runtime owns a device, its pipeline cache, its buffer pool and the command encoder that
 * kernels are recorded into. Work is submitted in batches; nothing waits on the CPU unless a value is read.
 */
export class Runtime {
    device;
    description;
    cache;
    pool;
    encoder = null;
    dispatches = 0;
    uniformArena;
    uniformBytes = new Uint8Array(UNIFORM_ARENA_BYTES);
    uniformUsed = 0;
    stagingFree = new Map();
    scopes = [];
    firstError = null;
    trace = null;
    destroyed = false;
    counters = { dispatches: 0, submits: 0, reads: 0 };
    constructor(device, description) {
        this.device = device;
        this.description = description;
        this.cache = new PipelineCache(device);
        this.pool = new BufferPool(device);
        this.uniformArena = device.createBuffer({ size: UNIFORM_ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.onuncapturederror = (e) => {
            this.firstError ??= e.error.message;
        };
        void device.lost.then((info) => {
            if (!this.destroyed)
                this.firstError ??= `GPU device lost (${info.reason}): ${info.message}`;
        });
    }
    static async open(opts = {}) {
        const { device, description } = await openDevice(opts);
        return new Runtime(device, description);
    }
    get hasTimestamps() { return this.device.features.has('timestamp-query'); }
    /** Runs `fn` with `name` pushed on the scope stack that names traced kernels (`layer/op`). */
    scope(name, fn) {
        this.scopes.push(name);
        try {
            return fn();
        }
        finally {
            this.scopes.pop();
        }
    }
    get scopeName() { return this.scopes.join('/'); }
    /** Runs `fn` with the whole scope path replaced (backward kernels run under their forward's scope). */
    withScopePath(path, fn) {
        const saved = this.scopes;
        this.scopes = path ? path.split('/') : [];
        try {
            return fn();
        }
        finally {
            this.scopes = saved;
        }
    }
    /** Records one kernel dispatch into the current command encoder. */
    run(kernel, params, bindings, uniforms, workgroups, args) {
        this.checkAlive();
        if (workgroups[0] === 0 || workgroups[1] === 0 || workgroups[2] === 0)
            return;
        const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
        if (workgroups.some((w) => w > maxWg)) {
            throw new GpuError(`kernel ${kernel.name}: ${workgroups.join('×')} workgroups exceed the device limit of ${maxWg} per dimension; use a smaller batch size`);
        }
        const maxBinding = this.device.limits.maxStorageBufferBindingSize;
        for (const b of bindings) {
            if (b.byteLength > maxBinding) {
                throw new GpuError(`kernel ${kernel.name}: a ${b.byteLength}-byte buffer exceeds maxStorageBufferBindingSize (${maxBinding} bytes) on this device; use a smaller --batch_size`);
            }
        }
        const compiled = this.cache.get(kernel, params);
        const uniformData = kernel.packUniforms(params, uniforms);
        if (uniformData && this.uniformUsed + uniformData.byteLength > UNIFORM_ARENA_BYTES)
            this.flush();
        const encoder = (this.encoder ??= this.device.createCommandEncoder());
        const entries = bindings.map((b, i) => ({
            binding: i, resource: { buffer: b.buffer, offset: 0, size: Math.min(b.buffer.size, Math.max(16, Math.ceil(b.byteLength / 16) * 16)) },
        }));
        if (uniformData) {
            this.uniformBytes.set(new Uint8Array(uniformData), this.uniformUsed);
            entries.push({ binding: bindings.length, resource: { buffer: this.uniformArena, offset: this.uniformUsed, size: uniformData.byteLength } });
            this.uniformUsed += Math.ceil(uniformData.byteLength / UNIFORM_SLOT) * UNIFORM_SLOT;
        }
        const bindGroup = this.device.createBindGroup({ layout: compiled.layout, entries });
        let timestampWrites;
        if (this.trace && this.trace.spans.length < MAX_TRACED_PASSES) {
            const i = this.trace.spans.length;
            this.trace.spans.push({
                name: [...this.scopes, kernel.name].join('/'), kernel: kernel.name, pipelineKey: compiled.key, workgroups, args,
            });
            timestampWrites = { querySet: this.trace.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
        }
        const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
        pass.setPipeline(compiled.pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
        pass.end();
        this.dispatches++;
        this.counters.dispatches++;
        if (this.dispatches >= DISPATCHES_PER_SUBMIT)
            this.flush();
    }
    /** Copies `size` bytes between buffers in stream order. */
    copy(src, dst, bytes, srcOffset = 0, dstOffset = 0) {
        this.checkAlive();
        const encoder = (this.encoder ??= this.device.createCommandEncoder());
        encoder.copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    }
    /** Uploads host data. Ordered after all work recorded so far (the pending encoder is submitted first). */
    write(dst, data, dstOffset = 0) {
        this.checkAlive();
        if (this.encoder)
            this.flush();
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const padded = bytes.byteLength % 4 === 0 ? bytes : (() => { const p = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4); p.set(bytes); return p; })();
        this.device.queue.writeBuffer(dst.buffer, dstOffset, padded);
    }
    /** Submits everything recorded so far. */
    flush() {
        if (!this.encoder)
            return;
        if (this.uniformUsed > 0)
            this.device.queue.writeBuffer(this.uniformArena, 0, this.uniformBytes, 0, this.uniformUsed);
        this.device.queue.submit([this.encoder.finish()]);
        this.encoder = null;
        this.dispatches = 0;
        this.uniformUsed = 0;
        this.counters.submits++;
        this.pool.onSubmit();
    }
    /**
     * Reads bytes back. The copy goes through a mapped staging buffer; waiting on its mapAsync is
     * the one completion signal we use (no onSubmittedWorkDone — see README: it crashed Dawn 0.6.2).
     */
    async read(src, bytes = src.byteLength, srcOffset = 0) {
        this.checkAlive();
        const size = Math.max(4, Math.ceil(bytes / 4) * 4);
        const staging = this.acquireStaging(size);
        const encoder = (this.encoder ??= this.device.createCommandEncoder());
        encoder.copyBufferToBuffer(src.buffer, srcOffset, staging, 0, size);
        this.flush();
        this.counters.reads++;
        try {
            await staging.mapAsync(GPUMapMode.READ, 0, size);
        }
        catch (e) {
            this.checkAlive();
            throw e;
        }
        const out = staging.getMappedRange(0, size).slice(0, bytes);
        staging.unmap();
        this.releaseStaging(staging);
        this.checkAlive();
        return out;
    }
    /** Waits until every submitted command has completed (a 4-byte read acts as the fence). */
    async sync() {
        const fence = this.pool.acquire(4);
        await this.read({ buffer: fence, byteLength: 4 });
        this.pool.release(fence);
    }
    /** Starts recording GPU timestamps around every kernel (needs 'timestamp-query'). */
    beginTrace() {
        if (!this.hasTimestamps)
            throw new GpuError('this adapter has no timestamp-query feature');
        this.flush();
        const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * MAX_TRACED_PASSES });
        this.trace = { querySet, spans: [] };
    }
    /** Stops recording and resolves all timestamps with one query resolve and one read. */
    async endTrace() {
        const t = this.trace;
        if (!t)
            return [];
        this.trace = null;
        const count = 2 * t.spans.length;
        if (count > 0) {
            const resolved = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
            const encoder = (this.encoder ??= this.device.createCommandEncoder());
            encoder.resolveQuerySet(t.querySet, 0, count, resolved, 0);
            const bytes = await this.read({ buffer: resolved, byteLength: count * 8 });
            const ns = new BigUint64Array(bytes);
            t.spans.forEach((s, i) => { s.startNs = Number(ns[2 * i]); s.endNs = Number(ns[2 * i + 1]); });
            resolved.destroy();
        }
        t.querySet.destroy();
        return t.spans;
    }
    destroy() {
        if (this.destroyed)
            return;
        this.destroyed = true;
        this.encoder = null;
        this.pool.trim();
        this.device.destroy();
    }
    checkAlive() {
        if (this.destroyed)
            throw new GpuError('the GPU runtime was shut down');
        if (this.firstError) {
            const msg = this.firstError;
            this.firstError = null;
            throw new GpuError(`GPU error: ${msg}`);
        }
    }
    acquireStaging(size) {
        return this.stagingFree.get(size)?.pop() ?? this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    releaseStaging(b) {
        let list = this.stagingFree.get(b.size);
        if (!list)
            this.stagingFree.set(b.size, (list = []));
        if (list.length < 4)
            list.push(b);
        else
            b.destroy();
    }
}
//# sourceMappingURL=runtime.js.map
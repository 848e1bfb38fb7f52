import { PipelineCache, fusedKernel, fusedName, writeUniforms, type FusedParams, type Kernel } from '@squeeze/kernels-wgsl';
import { BufferPool } from './buffer-pool.js';
import type { DeviceDescription } from './device.js';
import { checkDispatchLimits, GpuError } from './errors.js';
import { DeferredChecks, CHECK_RECORD_BYTES } from './deferred-checks.js';
import { FusionGroups, boundLength, type Dispatch } from './fusion.js';

export { DeviceLimitError, GpuError } from './errors.js';

/**
 * Something a kernel can bind: a GPU buffer, how many of its bytes the tensor uses, and where they
 * start (a view into a larger buffer, e.g. a parameter in an optimizer's flat buffer: a multiple
 * of minStorageBufferOffsetAlignment; 0 when absent).
 */
export interface Bindable { readonly buffer: GPUBuffer; readonly byteLength: number; readonly byteOffset?: number }

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

/** Uniforms of all dispatches of one command encoder share one buffer, 256-byte aligned slots. */
const UNIFORM_ARENA_BYTES = 64 * 1024;
const UNIFORM_SLOT = 256;
/** Submitting every so many dispatches lets released buffers be reused within a training step. */
const DISPATCHES_PER_SUBMIT = 96;
/** After a read the GPU has nothing to do: the first batch goes out sooner, so it starts while the rest is encoded. */
const FIRST_DISPATCHES_PER_SUBMIT = 16;
/**
 * Dawn's node binding busy-polls the main thread while a mapAsync is pending; on a software adapter
 * that poll takes CPU from the very threads doing the GPU work (~15% measured on llvmpipe). So in
 * Node (RuntimeOptions.pacedReads) a read first sleeps for this fraction of the wait it expects
 * (learned per dispatch), then maps. A page's mapAsync resolves from the browser's own event loop:
 * there it maps at once. Below 1 the estimate converges; above it oversleeping lengthens the
 * measured wait, which raises the estimate, and the sleep runs away (figures in bench/README.md).
 */
const EXPECTED_WAIT_SLEEP_FRACTION = 0.9;
const WAIT_ESTIMATE_SMOOTHING = 0.3;
/**
 * Guards on that sleep, which otherwise ran away when the cost per dispatch changed by orders of
 * magnitude (a sweep of big convolutions, whose waits also held pipeline compiles, then a small
 * model's 1500 cheap dispatches: minutes of sleep for well under a second of work): the sleep is
 * at most the longest of the last few actual waits, and a wait that was over as the sleep ended
 * (the map resolved at once: the estimate was too high by an unknown amount) halves the estimate.
 */
const RECENT_WAITS = 8;
const OVERSLEPT_MS = 1;
/**
 * Bind groups are cached by layout and bound buffers (the uniforms' place in the arena is a dynamic
 * offset, not part of the group). A training step binds the same pooled buffers in the same order
 * every step, and createBindGroup costs the main thread more than any other call of a dispatch (Dawn
 * converts the descriptor), time the adapter's own threads want on a software GPU. Past this many the cache starts over. Tensors' buffers come from the pool
 * and live as long as the runtime, so a cached group never binds a destroyed buffer; a group made for
 * a caller's own buffer keeps it referenced until the cache starts over or the runtime is destroyed.
 */
const MAX_CACHED_BIND_GROUPS = 4096;
/** WebGPU allows at most 4096 queries per query set: two timestamps per traced kernel. */
const MAX_TRACED_PASSES = 2048;

export interface RuntimeOptions {
  /** Reads sleep for most of the GPU time they expect before mapping (Dawn in Node; see `read`). */
  pacedReads?: boolean;
  /** Whether `destroy()` destroys the device (false for a device the caller opened). Default true. */
  ownsDevice?: boolean;
  /** `fuseIndependent` fuses (see `Runtime.horizontalFusion`); default: on a hardware adapter only. */
  horizontalFusion?: boolean;
}

/**
 * The runtime owns a device, its pipeline cache, its buffer pool and the command encoder that
 * kernels are recorded into. Work is submitted in batches; nothing waits on the CPU unless a value is read.
 */
export class Runtime {
  readonly cache: PipelineCache;
  readonly pool: BufferPool;
  /** checks kernels make on values never read (GPU-computed labels), reported by the next read. */
  readonly checks: DeferredChecks;
  private encoder: GPUCommandEncoder | null = null;
  /**
   * The open compute pass untraced dispatches share (each dispatch is its own usage scope, so Dawn
   * still orders them): one pass per submit instead of one per dispatch saves two calls into Dawn
   * and a pass's setup per dispatch. Traced dispatches get a pass each, for its timestamps.
   */
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private uniformArena: GPUBuffer;
  private uniformBytes = new Uint8Array(UNIFORM_ARENA_BYTES);
  private uniformView = new DataView(this.uniformBytes.buffer);
  private uniformUsed = 0;
  private stagingFree = new Map<number, GPUBuffer[]>();
  private scopes: string[] = [];
  private firstError: string | null = null;
  private trace: { querySet: GPUQuerySet; spans: KernelSpan[] } | null = null;
  private destroyed = false;
  /** dispatches recorded since the last read completed, and the learned wait per dispatch. */
  private dispatchesSinceRead = 0;
  /** dispatches recorded after a read before the first submit (a field so a bench A/B can vary it). */
  firstBatch = FIRST_DISPATCHES_PER_SUBMIT;
  /** while set, `run` only collects the pipelines a piece of work needs (see `warmPipelines`). */
  private collecting: Array<() => Promise<void>> | null = null;
  private waitMsPerDispatch = 0;
  private readonly recentWaitsMs: number[] = [];
  readonly counters = { dispatches: 0, submits: 0, reads: 0, bindGroupsCreated: 0 };
  private bindGroups = new Map<string, GPUBindGroup>();
  private objectIds = new WeakMap<object, number>();
  private nextObjectId = 1;

  /**
   * `fuseIndependent` fuses only while this is set: by default on a hardware adapter, where a step is
   * bound by its dispatches, and off on a software one (llvmpipe), whose fused kernels ran slower
   * than the same kernels one by one (bench/README.md, "Fusions: horizontal").
   */
  horizontalFusion: boolean;
  /** while set (inside `fuseIndependent`), dispatches are grouped for horizontal fusion first. */
  private fusion: FusionGroups | null = null;
  private readonly emit = (d: Dispatch) => this.dispatch(d);

  /** pipeline keys whose bindings and workgroup size were checked against the device's limits. */
  private readonly checkedKernels = new Set<string>();

  constructor(readonly device: GPUDevice, readonly description: DeviceDescription, readonly options: RuntimeOptions = {}) {
    this.cache = new PipelineCache(device);
    this.pool = new BufferPool(device);
    this.horizontalFusion = options.horizontalFusion ?? !description.software;
    this.checks = new DeferredChecks(device);
    this.uniformArena = device.createBuffer({ size: UNIFORM_ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.onuncapturederror = (e: GPUUncapturedErrorEvent) => {
      this.firstError ??= e.error.message;
    };
    void device.lost.then((info) => {
      if (!this.destroyed) this.firstError ??= `GPU device lost (${info.reason}): ${info.message}`;
    });
  }

  get hasTimestamps(): boolean { return this.device.features.has('timestamp-query'); }

  /** Runs `fn` with `name` pushed on the scope stack that names traced kernels (`layer/op`). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try { return fn(); } finally { this.scopes.pop(); }
  }

  get scopeName(): string { return this.scopes.join('/'); }

  /** Runs `fn` with the whole scope path replaced (backward kernels run under their forward's scope). */
  withScopePath<T>(path: string, fn: () => T): T {
    const saved = this.scopes;
    this.scopes = path ? path.split('/') : [];
    try { return fn(); } finally { this.scopes = saved; }
  }

  /** Records one kernel dispatch into the current command encoder. */
  run<P>(
    kernel: Kernel<P>, params: P, bindings: readonly Bindable[],
    uniforms: Record<string, number | ArrayLike<number>>, workgroups: [number, number, number],
    args?: Record<string, unknown>,
  ): void {
    this.checkAlive();
    if (workgroups[0] === 0 || workgroups[1] === 0 || workgroups[2] === 0) return;
    const key = kernel.key(params);
    checkDispatchLimits(this.description.limits, kernel, params, bindings, workgroups, this.checkedKernels, key);
    const d: Dispatch = { kernel: kernel as Kernel<unknown>, params, key, bindings, uniforms, workgroups, args, scope: this.trace || this.fusion ? this.scopeName : '' };
    if (!this.fusion) { this.dispatch(d); return; }
    // Held for later: the tensors may be disposed (their buffers stay untouched until the next submit).
    d.bindings = bindings.map((b) => ({ buffer: b.buffer, byteLength: b.byteLength, byteOffset: b.byteOffset ?? 0 }));
    this.fusion.push(d, this.emit);
  }

  /**
   * Runs `fn` with its independent consecutive dispatches merged into fewer, horizontally fused ones
   * (runtime/fusion.ts): the same results with fewer dispatches, for work recorded many times over
   * such as a training step. Nested calls join the outer one.
   */
  fuseIndependent<T>(fn: () => T): T {
    if (this.fusion || !this.horizontalFusion) return fn();
    this.fusion = new FusionGroups(this.description.limits.maxStorageBuffersPerShaderStage);
    try {
      return fn();
    } finally {
      this.emitFused();
      this.fusion = null;
    }
  }

  /** Dispatches the group being formed, before anything that must come after it in stream order. */
  private emitFused(): void {
    this.fusion?.flush(this.emit);
  }

  private dispatch(d: Dispatch): void {
    const { kernel, params, bindings, uniforms, workgroups, args } = d;
    if (this.collecting) {
      this.collecting.push(() => this.cache.warm(kernel, params));
      return;
    }
    const compiled = this.cache.get(kernel, params, d.key);
    const layout = compiled.uniforms;
    if (layout && this.uniformUsed + layout.size > UNIFORM_ARENA_BYTES) this.flush();
    let uniformOffset = -1;
    if (layout) {
      // Straight into the arena (the layout is cached with the pipeline): no buffer per dispatch.
      uniformOffset = this.uniformUsed;
      this.uniformBytes.fill(0, uniformOffset, uniformOffset + layout.size);
      writeUniforms(layout, uniforms, this.uniformView, uniformOffset, kernel.name);
      this.uniformUsed += Math.ceil(layout.size / UNIFORM_SLOT) * UNIFORM_SLOT;
    }
    const bindGroup = this.bindGroup(compiled.layout, bindings, layout ? layout.size : 0);
    let timestampWrites: GPUComputePassTimestampWrites | undefined;
    if (this.trace && this.trace.spans.length < MAX_TRACED_PASSES) {
      const i = this.trace.spans.length;
      const name = kernel === fusedKernel ? fusedName(params as FusedParams) : kernel.name;
      this.trace.spans.push({
        name: d.scope ? `${d.scope}/${name}` : name, kernel: name, pipelineKey: compiled.key, workgroups, args,
      });
      timestampWrites = { querySet: this.trace.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
    }
    const pass = timestampWrites
      ? this.outsidePass().beginComputePass({ timestampWrites })
      : (this.pass ??= (this.encoder ??= this.device.createCommandEncoder()).beginComputePass());
    pass.setPipeline(compiled.pipeline);
    if (uniformOffset >= 0) pass.setBindGroup(0, bindGroup, [uniformOffset]);
    else pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    if (timestampWrites) pass.end();
    this.dispatches++;
    this.dispatchesSinceRead++;
    this.counters.dispatches++;
    if (this.dispatches >= (this.dispatchesSinceRead === this.dispatches ? this.firstBatch : DISPATCHES_PER_SUBMIT)) this.flush();
  }

  /**
   * Compiles every pipeline `fn` would dispatch, in parallel (createComputePipelineAsync), without
   * running anything: `fn`'s dispatches are only collected. Its tensors are allocated but never
   * computed, so `fn` must not read values back; dispose what it returns (or run it inside tidy).
   */
  async warmPipelines(fn: () => void): Promise<number> {
    const jobs: Array<() => Promise<void>> = [];
    // Nothing is recorded while collecting: with everything earlier submitted, the buffers `fn`'s
    // tensors release can be handed out again at once (the pool would otherwise hold a whole
    // step's and evaluation's worth, ~200 MB at batch 32, that no later step needs).
    this.flush();
    this.collecting = jobs;
    this.pool.reuseAtOnce = true;
    try { fn(); } finally { this.collecting = null; this.pool.reuseAtOnce = false; }
    const before = this.cache.stats.compiles;
    await Promise.all(jobs.map((j) => j()));
    return this.cache.stats.compiles - before;
  }

  /** Copies `size` bytes between buffers in stream order. */
  copy(src: Bindable, dst: Bindable, bytes: number, srcOffset = 0, dstOffset = 0): void {
    this.checkAlive();
    this.outsidePass().copyBufferToBuffer(src.buffer, (src.byteOffset ?? 0) + srcOffset, dst.buffer, (dst.byteOffset ?? 0) + dstOffset, bytes);
  }

  /** Uploads host data. Ordered after all work recorded so far (the pending encoder is submitted first). */
  write(dst: Bindable, data: ArrayBufferView, dstOffset = 0): void {
    this.checkAlive();
    this.emitFused();
    if (this.encoder) this.flush();
    // A tensor written here no longer holds the host values it was made from.
    if ('hostValues' in dst) delete (dst as { hostValues?: Int32Array }).hostValues;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : (() => { const p = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4); p.set(bytes); return p; })();
    this.device.queue.writeBuffer(dst.buffer, (dst.byteOffset ?? 0) + dstOffset, padded);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.emitFused();
    if (!this.encoder) return;
    this.endPass();
    if (this.uniformUsed > 0) this.device.queue.writeBuffer(this.uniformArena, 0, this.uniformBytes, 0, this.uniformUsed);
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
  async read(src: Bindable, bytes = src.byteLength, srcOffset = 0): Promise<ArrayBuffer> {
    this.checkAlive();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const check = this.checks.pending();
    const staging = this.acquireStaging(size + (check ? CHECK_RECORD_BYTES : 0));
    this.outsidePass().copyBufferToBuffer(src.buffer, (src.byteOffset ?? 0) + srcOffset, staging, 0, size);
    if (check) this.outsidePass().copyBufferToBuffer(check.buffer, 0, staging, size, CHECK_RECORD_BYTES);
    this.flush();
    this.counters.reads++;
    const pending = this.dispatchesSinceRead;
    const t0 = performance.now();
    const expectedMs = Math.min(pending * this.waitMsPerDispatch, Math.max(0, ...this.recentWaitsMs));
    const sleepMs = this.options.pacedReads && expectedMs > 2 ? expectedMs * EXPECTED_WAIT_SLEEP_FRACTION : 0;
    if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
    const tMap = performance.now();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.checkAlive();
      throw e;
    }
    const waitMs = performance.now() - t0;
    if (pending > 0) {
      const overslept = sleepMs > 0 && performance.now() - tMap < OVERSLEPT_MS;
      const sample = overslept ? this.waitMsPerDispatch / 2 : waitMs / pending;
      this.waitMsPerDispatch = this.waitMsPerDispatch === 0 || overslept ? sample : (1 - WAIT_ESTIMATE_SMOOTHING) * this.waitMsPerDispatch + WAIT_ESTIMATE_SMOOTHING * sample;
      this.recentWaitsMs.push(waitMs);
      if (this.recentWaitsMs.length > RECENT_WAITS) this.recentWaitsMs.shift();
    }
    this.dispatchesSinceRead = 0;
    const mapped = staging.getMappedRange();
    const out = mapped.slice(0, bytes);
    const failure = check ? this.checks.settle(new Uint32Array(mapped.slice(size, size + CHECK_RECORD_BYTES)), check.snapshot) : null;
    staging.unmap();
    this.releaseStaging(staging);
    this.checkAlive();
    if (failure) throw new Error(failure);
    return out;
  }

  /** Waits until every submitted command has completed (a 4-byte read acts as the fence). */
  async sync(): Promise<void> {
    const fence = this.pool.acquire(4);
    await this.read({ buffer: fence, byteLength: 4 });
    this.pool.release(fence);
  }

  /** Starts recording GPU timestamps around every kernel (needs 'timestamp-query'). */
  beginTrace(): void {
    if (!this.hasTimestamps) throw new GpuError('this adapter has no timestamp-query feature');
    this.flush();
    const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * MAX_TRACED_PASSES });
    this.trace = { querySet, spans: [] };
  }

  /** Stops recording and resolves all timestamps with one query resolve and one read. */
  async endTrace(): Promise<KernelSpan[]> {
    const t = this.trace;
    if (!t) return [];
    this.trace = null;
    const count = 2 * t.spans.length;
    if (count > 0) {
      const resolved = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.outsidePass().resolveQuerySet(t.querySet, 0, count, resolved, 0);
      const bytes = await this.read({ buffer: resolved, byteLength: count * 8 });
      const ns = new BigUint64Array(bytes);
      t.spans.forEach((s, i) => { s.startNs = Number(ns[2 * i]!); s.endNs = Number(ns[2 * i + 1]!); });
      resolved.destroy();
    }
    t.querySet.destroy();
    return t.spans;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    this.bindGroups.clear();
    this.pool.trim();
    this.uniformArena.destroy();
    this.checks.destroy();
    for (const list of this.stagingFree.values()) for (const b of list) b.destroy();
    this.stagingFree.clear();
    if (this.options.ownsDevice !== false) this.device.destroy();
  }

  /** The command encoder for a command outside compute passes (a copy, a query resolve): ends the open pass. */
  private outsidePass(): GPUCommandEncoder {
    this.emitFused();
    this.endPass();
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new GpuError('the GPU runtime was shut down');
    if (this.firstError) {
      const msg = this.firstError;
      this.firstError = null;
      throw new GpuError(`GPU error: ${msg}`);
    }
  }

  /** The bind group of `bindings` (plus the uniform arena, `uniformBytes` > 0) under `layout`, cached. */
  private bindGroup(layout: GPUBindGroupLayout, bindings: readonly Bindable[], uniformBytes: number): GPUBindGroup {
    const sizes = bindings.map(boundLength);
    let key = `${this.objectId(layout)}:${uniformBytes}`;
    for (let i = 0; i < bindings.length; i++) key += `,${this.objectId(bindings[i]!.buffer)}@${bindings[i]!.byteOffset ?? 0}/${sizes[i]}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({ binding: i, resource: { buffer: b.buffer, offset: b.byteOffset ?? 0, size: sizes[i]! } }));
      if (uniformBytes > 0) entries.push({ binding: bindings.length, resource: { buffer: this.uniformArena, offset: 0, size: uniformBytes } });
      group = this.device.createBindGroup({ layout, entries });
      this.counters.bindGroupsCreated++;
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
      this.bindGroups.set(key, group);
    }
    return group;
  }

  private objectId(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) this.objectIds.set(o, (id = this.nextObjectId++));
    return id;
  }

  private acquireStaging(size: number): GPUBuffer {
    return this.stagingFree.get(size)?.pop() ?? this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  private releaseStaging(b: GPUBuffer): void {
    let list = this.stagingFree.get(b.size);
    if (!list) this.stagingFree.set(b.size, (list = []));
    if (list.length < 4) list.push(b); else b.destroy();
  }
}

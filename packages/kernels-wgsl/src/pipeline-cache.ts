import type { BufferBinding, Kernel, UniformLayout } from './kernel.js';

export interface CacheStats { hits: number; misses: number; compiles: number; pipelines: number }

/**
 * Two-level cache: kernel key → WGSL → pipeline. Different keys that render the same WGSL share a
 * pipeline; concurrent async requests for one key share a single compile.
 */
export class PipelineCache {
  /** Called at each new pipeline (every cache in the process): for counting what a run compiles. */
  static onCompile: ((kernel: string, key: string, wgsl: string) => void) | null = null;
  private byKey = new Map<string, Compiled>();
  private byWgsl = new Map<string, Compiled>();
  private pending = new Map<string, Promise<Compiled>>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  readonly stats: CacheStats = { hits: 0, misses: 0, compiles: 0, pipelines: 0 };

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for `kernel` at `params` (`key`: its key, where the caller has it), compiled synchronously on a miss. */
  get<P>(kernel: Kernel<P>, params: P, key = kernel.key(params)): Compiled {
    const hit = this.byKey.get(key);
    if (hit) { this.stats.hits++; return hit; }
    this.stats.misses++;
    const wgsl = kernel.wgsl(params);
    let compiled = this.byWgsl.get(wgsl);
    if (!compiled) {
      const layout = this.bindGroupLayout(kernel.bindings(params), !!kernel.uniforms?.(params).length);
      const module = this.device.createShaderModule({ code: wgsl, label: kernel.name });
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      compiled = { key, pipeline, layout, wgsl, uniforms: kernel.uniformLayout(params) };
      this.stats.compiles++;
      this.byWgsl.set(wgsl, compiled);
      this.stats.pipelines = this.byWgsl.size;
      PipelineCache.onCompile?.(kernel.name, key, wgsl);
    }
    this.byKey.set(key, compiled);
    return compiled;
  }

  /** Compiles ahead of use with createComputePipelineAsync; duplicates share one compile. */
  async warm<P>(kernel: Kernel<P>, params: P): Promise<void> {
    const key = kernel.key(params);
    if (this.byKey.has(key)) return;
    const inflight = this.pending.get(key);
    if (inflight) { await inflight; return; }
    const job = (async () => {
      const wgsl = kernel.wgsl(params);
      let compiled = this.byWgsl.get(wgsl);
      if (!compiled) {
        const layout = this.bindGroupLayout(kernel.bindings(params), !!kernel.uniforms?.(params).length);
          const module = this.device.createShaderModule({ code: wgsl, label: kernel.name });
        const pipeline = await this.device.createComputePipelineAsync({
          label: key,
          layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: 'main' },
        });
        compiled = this.byWgsl.get(wgsl) ?? { key, pipeline, layout, wgsl, uniforms: kernel.uniformLayout(params) };
        if (!this.byWgsl.has(wgsl)) {
          this.stats.compiles++; this.byWgsl.set(wgsl, compiled);
          PipelineCache.onCompile?.(kernel.name, key, wgsl);
        }
        this.stats.pipelines = this.byWgsl.size;
      }
      this.byKey.set(key, compiled);
      return compiled;
    })();
    this.pending.set(key, job);
    try { await job; } finally { this.pending.delete(key); }
  }

  /** Every distinct pipeline key compiled so far (for tracing and the bench). */
  keys(): string[] { return [...this.byKey.keys()]; }

  private bindGroupLayout(bindings: BufferBinding[], hasUniforms: boolean): GPUBindGroupLayout {
    const sig = bindings.map((b) => b.access).join(',') + (hasUniforms ? ',u' : '');
    let layout = this.layouts.get(sig);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = bindings.map((b, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' },
      }));
      if (hasUniforms) entries.push({ binding: bindings.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } });
      layout = this.device.createBindGroupLayout({ entries });
      this.layouts.set(sig, layout);
    }
    return layout;
  }
}

export interface Compiled {
  key: string; pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; wgsl: string;
  /** the uniform struct's layout at this key (null: no uniforms), computed once */
  uniforms: UniformLayout | null;
}

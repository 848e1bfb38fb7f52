import { fusedKernel, fusedUniforms, linearWorkgroups, partLanes, type FusedParams, type Kernel } from '@squeeze/kernels-wgsl';
import type { Bindable } from './runtime.js';

/**
 * Grouping for horizontal fusion (kernels-wgsl fused.ts): inside `Runtime.fuseIndependent`, each
 * dispatch joins the group being formed when it is independent of every member (no buffer range one
 * writes is bound by another), the members agree on a workgroup width (`fusedLanes`), and the
 * group stays within four members, one heavy kernel and the device's storage-buffer limit; otherwise the group is dispatched (fused, or alone) and a new one
 * starts. Order is kept: a group only ever holds consecutive dispatches.
 */

export interface Dispatch {
  kernel: Kernel<unknown>;
  params: unknown;
  key: string;
  bindings: readonly Bindable[];
  uniforms: Record<string, number | ArrayLike<number>>;
  workgroups: [number, number, number];
  args?: Record<string, unknown>;
  /** the trace scope when it was recorded. */
  scope: string;
}

/**
 * What grouping needs of a kernel specialisation, computed once per key. `synchronises`: it uses
 * workgroup barriers or subgroup operations, so every lane of its workgroup must run it.
 */
interface Shape { lanes: number; writes: boolean[]; workgroupMemory: boolean; synchronises: boolean; heavy: boolean }

/** Parts of one fused dispatch at most: enough for a fire module's branches, few pipeline combinations. */
const MAX_PARTS = 4;
/**
 * A kernel whose WGSL is longer than this (the unrolled GEMM tiles, F(4×4) Winograd transforms) is
 * heavy: at most one per fused dispatch, since LLVM (lavapipe) takes far longer to compile two such
 * bodies in one function than apart, and a long kernel gains little from a dispatch saved.
 */
const HEAVY_WGSL_CHARS = 12_000;

export class FusionGroups {
  private parts: Dispatch[] = [];
  private shapes = new Map<string, Shape>();

  constructor(private readonly maxStorageBuffers: number) {}

  /** Adds `d`, first handing the current group to `emit` when `d` cannot join it. */
  push(d: Dispatch, emit: (d: Dispatch) => void): void {
    if (this.parts.length > 0 && !this.accepts(d)) this.flush(emit);
    this.parts.push(d);
  }

  /** Hands the current group to `emit` as one dispatch (fused when it has several parts). */
  flush(emit: (d: Dispatch) => void): void {
    const parts = this.parts;
    if (parts.length === 0) return;
    this.parts = [];
    emit(parts.length === 1 ? parts[0]! : this.fuse(parts));
  }

  private accepts(d: Dispatch): boolean {
    if (this.parts.length >= MAX_PARTS) return false;
    const storage = this.parts.reduce((n, p) => n + p.bindings.length, d.bindings.length);
    if (storage > this.maxStorageBuffers) return false;
    const shapes = [...this.parts, d].map((p) => this.shape(p));
    if (shapes.filter((s) => s.workgroupMemory).length > 1 || shapes.filter((s) => s.heavy).length > 1) return false;
    if (fusedLanes(shapes) === null) return false;
    return this.parts.every((p) => independent(p, this.shape(p), d, shapes[shapes.length - 1]!));
  }

  private shape(d: Dispatch): Shape {
    let s = this.shapes.get(d.key);
    if (!s) {
      const wgsl = d.kernel.wgsl(d.params);
      s = {
        lanes: partLanes(d),
        writes: d.kernel.bindings(d.params).map((b) => b.access !== 'read'),
        workgroupMemory: wgsl.includes('var<workgroup>'),
        synchronises: /Barrier|subgroup|workgroupUniformLoad/.test(wgsl),
        heavy: wgsl.length > HEAVY_WGSL_CHARS,
      };
      this.shapes.set(d.key, s);
    }
    return s;
  }

  private fuse(parts: Dispatch[]): Dispatch {
    const params: FusedParams = { parts: parts.map((p) => ({ kernel: p.kernel, params: p.params, key: p.key })), lanes: fusedLanes(parts.map((p) => this.shape(p)))!, rows: parts.map((p) => p.workgroups[1] === 1 && p.workgroups[2] === 1) };
    const uniforms = fusedUniforms(params, parts);
    return {
      kernel: fusedKernel as Kernel<unknown>, params, key: fusedKernel.key(params),
      bindings: parts.flatMap((p) => p.bindings), uniforms,
      workgroups: linearWorkgroups(uniforms.total as number, 1),
      args: { fused: parts.map((p) => p.kernel.name) }, scope: parts[0]!.scope,
    };
  }
}

/**
 * The fused workgroup's width for these parts, or null where none fits: the width of the parts that
 * synchronise their workgroup or share workgroup memory (which must all agree), else the narrowest
 * part's; every other part is as wide, narrower (its extra lanes idle) or a multiple (split).
 */
function fusedLanes(shapes: readonly Shape[]): number | null {
  const fixed = new Set(shapes.filter((s) => s.synchronises || s.workgroupMemory).map((s) => s.lanes));
  if (fixed.size > 1) return null;
  const lanes = fixed.size === 1 ? [...fixed][0]! : Math.min(...shapes.map((s) => s.lanes));
  return shapes.every((s) => s.lanes <= lanes || s.lanes % lanes === 0) ? lanes : null;
}

/** No byte range that one of the two dispatches writes is bound by the other. */
function independent(a: Dispatch, sa: Shape, b: Dispatch, sb: Shape): boolean {
  for (let i = 0; i < a.bindings.length; i++) {
    for (let j = 0; j < b.bindings.length; j++) {
      if (!sa.writes[i] && !sb.writes[j]) continue;
      if (overlap(a.bindings[i]!, b.bindings[j]!)) return false;
    }
  }
  return true;
}

function overlap(a: Bindable, b: Bindable): boolean {
  if (a.buffer !== b.buffer) return false;
  const [a0, b0] = [a.byteOffset ?? 0, b.byteOffset ?? 0];
  return a0 < b0 + boundLength(b) && b0 < a0 + boundLength(a);
}

/** The bytes a binding covers: its length rounded up to 16 bytes, within the buffer (what `Runtime.bindGroup` binds). */
export function boundLength(b: Bindable): number {
  return Math.min(b.buffer.size - (b.byteOffset ?? 0), Math.max(16, Math.ceil(b.byteLength / 16) * 16));
}

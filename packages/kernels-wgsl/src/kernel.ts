
/** Where a tensor's channels are: 'NCHW' channels before the spatial axes, 'NHWC' last (any rank: [N, C] is channels-last). */
export type DataFormat = 'NCHW' | 'NHWC';
/**
 * A kernel is a small record: its name, the specialisation it compiles for (the params type P — the
 * pipeline-cache key is `name` + P as JSON, so P must hold exactly what the WGSL text depends on),
 * its buffer bindings, its uniforms, its workgroup size and a WGSL template for the entry point's
 * body. Shapes and other per-call numbers go in uniforms so one pipeline serves many shapes.
 */
export type ScalarType = 'f32' | 'i32' | 'u32';

export interface BufferBinding {
  name: string;
  /** element type of the WGSL array (`vec4<f32>` for vectorised access, `atomic<u32>` for scatters). */
  type: ScalarType | 'vec2<f32>' | 'vec4<f32>' | 'atomic<u32>';
  access: 'read' | 'read_write';
}

/** A uniform field: a scalar, or a fixed-size u32 array (packed in vec4s; read with `name(i)`). */
export type UniformField = { name: string; type: ScalarType } | { name: string; type: 'u32array'; length: number };

export interface KernelDef<P> {
  readonly name: string;
  bindings(p: P): BufferBinding[];
  uniforms?(p: P): UniformField[];
  workgroupSize(p: P): [number, number, number];
  /** WGSL placed before `main` (helper functions, constants, workgroup variables). */
  prelude?(p: P): string;
  /**
   * The body of `main`. In scope: `gid`, `lid`, `wid` (vec3<u32> global/local/workgroup id),
   * `nwg` (number of workgroups), `lindex` (local_invocation_index), `sgid` (subgroup_invocation_id,
   * when `enables` has 'subgroups'), every binding by name and
   * the uniforms as `u.<field>` (arrays via the generated accessor `<field>(i)`).
   */
  body(p: P): string;
  /** WGSL extensions to enable (e.g. 'f16', 'subgroups'); part of the source, so part of the key via P. */
  enables?(p: P): string[];
  /** Other global directives, e.g. 'diagnostic(off, subgroup_uniformity)' (the kernel says why). */
  directives?(p: P): string[];
}

export interface Kernel<P> extends KernelDef<P> {
  /** The pipeline-cache key: what this kernel specialises on. */
  key(p: P): string;
  wgsl(p: P): string;
  /** The WGSL struct layout of the uniforms at `p` (null: none); the pipeline cache keeps it per key. */
  uniformLayout(p: P): UniformLayout | null;
}

export function defineKernel<P>(def: KernelDef<P>): Kernel<P> {
  return {
    ...def,
    key: (p: P) => `${def.name}${JSON.stringify(p)}`,
    wgsl: (p: P) => renderWgsl(def, p),
    uniformLayout: (p: P) => {
      const fields = def.uniforms?.(p) ?? [];
      return fields.length === 0 ? null : uniformLayout(fields);
    },
  };
}

export interface UniformLayout { fields: Array<UniformField & { offset: number }>; size: number }

/** WGSL struct layout: u32 arrays are array<vec4<u32>, N> (16-byte aligned), scalars 4 bytes. */
export function uniformLayout(fields: UniformField[]): UniformLayout {
  // Arrays first so that every vec4 lands on a 16-byte boundary without padding between scalars.
  const ordered = [...fields.filter((f) => f.type === 'u32array'), ...fields.filter((f) => f.type !== 'u32array')];
  let offset = 0;
  const out: UniformLayout['fields'] = [];
  for (const f of ordered) {
    if (f.type === 'u32array') {
      out.push({ ...f, offset });
      offset += Math.ceil(f.length / 4) * 16;
    } else {
      out.push({ ...f, offset });
      offset += 4;
    }
  }
  return { fields: out, size: Math.max(16, Math.ceil(offset / 16) * 16) };
}

/**
 * Writes uniform values laid out as `layout` (the WGSL struct) into `view` at byte `at`: the runtime
 * writes straight into its per-submit uniform arena, no buffer per dispatch. Bytes no field covers
 * (padding, array entries past the values) are left as they are: the caller zeroes the region.
 */
export function writeUniforms(layout: UniformLayout, values: Record<string, number | ArrayLike<number>>, view: DataView, at: number, kernel: string): void {
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`kernel ${kernel}: missing uniform '${f.name}'`);
    const o = at + f.offset;
    if (f.type === 'u32array') {
      const arr = v as ArrayLike<number>;
      if (arr.length > f.length) throw new Error(`kernel ${kernel}: uniform '${f.name}' has ${arr.length} > ${f.length} entries`);
      for (let i = 0; i < arr.length; i++) view.setUint32(o + 4 * i, arr[i]!, true);
    } else if (f.type === 'f32') view.setFloat32(o, v as number, true);
    else if (f.type === 'i32') view.setInt32(o, v as number, true);
    else view.setUint32(o, v as number, true);
  }
}

function renderWgsl<P>(def: KernelDef<P>, p: P): string {
  const lines: string[] = [];
  for (const e of def.enables?.(p) ?? []) lines.push(`enable ${e};`);
  for (const d of def.directives?.(p) ?? []) lines.push(`${d};`);
  const bindings = def.bindings(p);
  bindings.forEach((b, i) => {
    const access = b.access === 'read' ? 'read' : 'read_write';
    lines.push(`@group(0) @binding(${i}) var<storage, ${access}> ${b.name}: array<${b.type}>;`);
  });
  const fields = def.uniforms?.(p) ?? [];
  if (fields.length > 0) {
    const layout = uniformLayout(fields);
    lines.push('struct Uniforms {');
    for (const f of layout.fields) {
      lines.push(f.type === 'u32array' ? `  ${f.name}: array<vec4<u32>, ${Math.ceil(f.length / 4)}>,` : `  ${f.name}: ${f.type},`);
    }
    lines.push('};');
    lines.push(`@group(0) @binding(${bindings.length}) var<uniform> u: Uniforms;`);
    for (const f of layout.fields) {
      if (f.type === 'u32array') lines.push(`fn ${f.name}(i: u32) -> u32 { return u.${f.name}[i / 4u][i % 4u]; }`);
    }
  }
  if (def.prelude) lines.push(def.prelude(p));
  const [x, y, z] = def.workgroupSize(p);
  lines.push(`@compute @workgroup_size(${x}, ${y}, ${z})`);
  const subgroups = (def.enables?.(p) ?? []).includes('subgroups');
  lines.push(
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,',
    '        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,',
    subgroups
      ? '        @builtin(local_invocation_index) lindex: u32, @builtin(subgroup_invocation_id) sgid: u32) {'
      : '        @builtin(local_invocation_index) lindex: u32) {',
  );
  lines.push(def.body(p));
  lines.push('}');
  return lines.join('\n');
}

// ── codegen helpers shared by the kernel files ─────────────────────────────────────────────────

/** 0, 1, …, n − 1: kernels unroll their register tiles over it. */
export const range = (n: number): number[] => [...Array(n).keys()];

/** WGSL summing `terms` pairwise, ((a + b) + (c + d)), before the one accumulator write they feed. */
export const pairSum = (terms: string[]): string =>
  (terms.length === 1 ? terms[0]! : `(${pairSum(terms.slice(0, terms.length / 2))} + ${pairSum(terms.slice(terms.length / 2))})`);

/** Components of a vec4, by index. */
export const LANES = ['x', 'y', 'z', 'w'] as const;

/**
 * Element i of a row that the `size` lanes of a subgroup loaded together, lane l holding elements
 * l, l + size, l + 2·size, … in its slots 0, 1, 2, … (`slot(s)` names slot s): every lane gets it
 * from lane i % size. Kernels that share loads through subgroups assemble their rows with this.
 */
export const fromSubgroupSlots = (slot: (s: number) => string, i: number, size: number): string =>
  `subgroupBroadcast(${slot(Math.floor(i / size))}, ${i % size}u)`;

/**
 * Small helper kernels that would otherwise split a linear index into coordinates by dividing it
 * by uniforms (which lavapipe scalarises: one lane at a time) run on a 3-D grid instead: x the
 * fastest coordinate in GRID_X-wide rows, y the next, z the slowest (a handful). Such a kernel
 * declares `gridWorkgroupSize(workgroup)` and reads its coordinates straight from `gid`.
 */
const GRID_X = 4;
export const gridWorkgroupSize = (workgroup: number): [number, number, number] => [GRID_X, workgroup / GRID_X, 1];
/** The dispatch of a grid kernel (see `gridWorkgroupSize`) over x × y × z items. */
export function gridWorkgroups(x: number, y: number, z: number, workgroup: number): [number, number, number] {
  return [Math.ceil(x / GRID_X), Math.ceil(y / (workgroup / GRID_X)), z];
}

/** Largest workgroup count per dimension WebGPU guarantees. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Workgroups for `count` independent items, `perWorkgroup` items each, spread over x and y so that
 * counts above 65535 workgroups still dispatch. Kernels recover the item index with `linearIndex`.
 */
export function linearWorkgroups(count: number, perWorkgroup: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / perWorkgroup));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL expression: the linear workgroup index for a `linearWorkgroups` dispatch. */
export const linearWorkgroupIndex = '(wid.x + wid.y * nwg.x)';
/** WGSL expression: the linear invocation index for a 1-D workgroup of size `wgSize`. */
export function linearIndex(wgSize: number): string {
  return `(${linearWorkgroupIndex} * ${wgSize}u + lid.x)`;
}

import { uniformLayout, type BufferBinding, type Kernel, type UniformField } from './kernel.js';

/**
 * Horizontal fusion: independent dispatches (none writes what another binds) run as ONE dispatch of
 * a kernel that holds each part's body in a branch (see FusedParams for the workgroup's width). The
 * workgroups are numbered part after part; each branch rebuilds its part's `wid`, `nwg`, `lindex`,
 * `lid` and `gid` from that number and the part's own grid, so the bodies run unchanged. Every name a part
 * declares (bindings, uniforms, prelude functions, constants, workgroup variables) gets the prefix
 * `p<i>_`, so two parts never clash. The runtime forms the groups (see core's runtime/fusion.ts).
 */

/** One member of a fused dispatch: a kernel at its specialisation. */
export interface FusedPart {
  readonly kernel: Kernel<unknown>;
  readonly params: unknown;
  /** the kernel's cache key at `params` (the caller has it already). */
  readonly key: string;
}

/**
 * `lanes`: the fused workgroup's width. A part as wide runs as it is; a narrower one leaves its extra
 * lanes idle, and a wider one (a multiple) is split over several fused workgroups: both only for
 * parts that neither synchronise their workgroup nor share workgroup memory (the runtime checks).
 */
export interface FusedParams {
  readonly parts: readonly FusedPart[];
  readonly lanes: number;
  /** per part: its grid is one row of workgroups (y = z = 1), so its wid needs no division. */
  readonly rows: readonly boolean[];
}

const prefix = (i: number): string => `p${i}_`;

/** Names a prelude declares at module scope: `fn f(`, `const C`, `var<workgroup> tile`, `struct S`, `alias A`, `override O`. */
function preludeNames(prelude: string): string[] {
  const re = /^\s*(?:fn|const|override|struct|alias|var<[^>]*>)\s+([A-Za-z_]\w*)/gm;
  return [...prelude.matchAll(re)].map((m) => m[1]!);
}

/** `text` with every identifier in `names` prefixed and every `u.field` turned into `u.<prefix>field`. */
function rename(text: string, names: readonly string[], p: string): string {
  let out = text.replace(/(?<![\w.])u\.([A-Za-z_]\w*)/g, `u.${p}$1`);
  if (names.length > 0) {
    const re = new RegExp(`(?<![\\w.])(${[...new Set(names)].join('|')})(?!\\w)`, 'g');
    out = out.replace(re, `${p}$1`);
  }
  return out;
}

/** The uniforms each part's branch reads its grid from: workgroups per axis and where its range of fused workgroups ends. */
function gridFields(i: number): UniformField[] {
  return ['gx', 'gy', 'gz', 'gxy', 'end'].map((f) => ({ name: `${prefix(i)}${f}`, type: 'u32' as const }));
}

function partFields(part: FusedPart, i: number): UniformField[] {
  return (part.kernel.uniforms?.(part.params) ?? []).map((f) => ({ ...f, name: prefix(i) + f.name }));
}

/** Lanes of a kernel's own workgroup. */
export function partLanes(part: Pick<FusedPart, 'kernel' | 'params'>): number {
  const [x, y, z] = part.kernel.workgroupSize(part.params);
  return x * y * z;
}

/** Fused workgroups per workgroup of the part: more than one where the part is wider than the fused workgroup. */
function splitOf(part: FusedPart, lanes: number): number {
  return Math.max(1, partLanes(part) / lanes);
}

/** The part's local_invocation_id from its lane index `li`, in the simplest form its shape allows (LLVM keeps lane-linear addresses linear). */
function localId(sx: number, sy: number, sz: number): string {
  if (sy === 1 && sz === 1) return 'vec3<u32>(lindex, 0u, 0u)';
  if (sz === 1) return `vec3<u32>(lindex % ${sx}u, lindex / ${sx}u, 0u)`;
  return `vec3<u32>(lindex % ${sx}u, (lindex / ${sx}u) % ${sy}u, lindex / ${sx * sy}u)`;
}

/** The lines of part i's branch that rebuild its builtins (`wid`, `nwg`, `lindex`, `lid`, `gid`) before its body. */
function partBuiltins(part: FusedPart, i: number, lanes: number, rows: boolean): string[] {
  const pre = prefix(i);
  const [sx, sy, sz] = part.kernel.workgroupSize(part.params);
  const own = sx * sy * sz;
  const split = splitOf(part, lanes);
  if (own > lanes && (own % lanes !== 0)) throw new Error(`fused: ${part.kernel.name}'s ${own} lanes are not a multiple of ${lanes}`);
  const start = i === 0 ? '0u' : `u.${prefix(i - 1)}end`;
  const L = [`let _w = (_flat - ${start})${split > 1 ? ` / ${split}u` : ''};`];
  if (split > 1) L.push(`let lindex = ((_flat - ${start}) % ${split}u) * ${lanes}u + _lane;`);
  else L.push('let lindex = _lane;');
  if (own < lanes) L.push(`if (lindex >= ${own}u) { return; }`);
  L.push(
    rows ? 'let wid = vec3<u32>(_w, 0u, 0u);' : `let wid = vec3<u32>(_w % u.${pre}gx, (_w / u.${pre}gx) % u.${pre}gy, _w / u.${pre}gxy);`,
    `let nwg = vec3<u32>(u.${pre}gx, u.${pre}gy, u.${pre}gz);`,
    `let lid = ${localId(sx, sy, sz)};`,
    `let gid = wid * vec3<u32>(${sx}u, ${sy}u, ${sz}u) + lid;`,
  );
  return L;
}

function renderFused(p: FusedParams): string {
  const lines: string[] = [];
  const enables = new Set(p.parts.flatMap((part) => part.kernel.enables?.(part.params) ?? []));
  const directives = new Set(p.parts.flatMap((part) => part.kernel.directives?.(part.params) ?? []));
  for (const e of enables) lines.push(`enable ${e};`);
  for (const d of directives) lines.push(`${d};`);
  let binding = 0;
  const bodies: string[] = [];
  p.parts.forEach((part, i) => {
    const pre = prefix(i);
    const bindings = part.kernel.bindings(part.params);
    for (const b of bindings) {
      lines.push(`@group(0) @binding(${binding++}) var<storage, ${b.access === 'read' ? 'read' : 'read_write'}> ${pre}${b.name}: array<${b.type}>;`);
    }
    const fields = part.kernel.uniforms?.(part.params) ?? [];
    const arrays = fields.filter((f) => f.type === 'u32array').map((f) => f.name);
    for (const a of arrays) lines.push(`fn ${pre}${a}(i: u32) -> u32 { return u.${pre}${a}[i / 4u][i % 4u]; }`);
    const prelude = part.kernel.prelude?.(part.params) ?? '';
    const names = [...bindings.map((b) => b.name), ...arrays, ...preludeNames(prelude)];
    if (prelude) lines.push(rename(prelude, names, pre));
    bodies.push([...partBuiltins(part, i, p.lanes, p.rows[i]!), rename(part.kernel.body(part.params), names, pre)].join('\n'));
  });
  const layout = uniformLayout(fusedUniformFields(p));
  lines.push('struct Uniforms {');
  for (const f of layout.fields) lines.push(f.type === 'u32array' ? `  ${f.name}: array<vec4<u32>, ${Math.ceil(f.length / 4)}>,` : `  ${f.name}: ${f.type},`);
  lines.push('};', `@group(0) @binding(${binding}) var<uniform> u: Uniforms;`);
  lines.push(`@compute @workgroup_size(${p.lanes}, 1, 1)`);
  lines.push(
    'fn main(@builtin(workgroup_id) _wid: vec3<u32>, @builtin(num_workgroups) _nwg: vec3<u32>,',
    enables.has('subgroups')
      ? '        @builtin(local_invocation_id) _lid: vec3<u32>, @builtin(subgroup_invocation_id) sgid: u32) {'
      : '        @builtin(local_invocation_id) _lid: vec3<u32>) {',
    // The workgroup is one row, so the lane's x is its index; llvmpipe makes local_invocation_index
    // far dearer than local_invocation_id (bench/README.md).
    '  let _lane = _lid.x;',
    // Dispatched as linearWorkgroups(total, 1): this is linearWorkgroupIndex on the renamed builtins.
    '  let _flat = _wid.x + _wid.y * _nwg.x;',
    '  if (_flat >= u.total) { return; }',
  );
  bodies.forEach((body, i) => {
    const cond = i === bodies.length - 1 ? '' : `if (_flat < u.${prefix(i)}end) `;
    lines.push(`  ${i === 0 ? '' : 'else '}${cond}{`, body.split('\n').map((l) => '    ' + l).join('\n'), '  }');
  });
  lines.push('}');
  return lines.join('\n');
}

function fusedUniformFields(p: FusedParams): UniformField[] {
  return [...p.parts.flatMap((part, i) => [...partFields(part, i), ...gridFields(i)]), { name: 'total', type: 'u32' }];
}

/** The fused kernel: run with the parts' bindings in order, `fusedUniforms` and `linearWorkgroups(total, 1)`. */
export const fusedKernel: Kernel<FusedParams> = {
  name: 'fused',
  key: (p) => `fused${p.lanes}[${p.parts.map((part, i) => (p.rows[i] ? 'row:' : '') + part.key).join('|')}]`,
  wgsl: renderFused,
  bindings: (p): BufferBinding[] => p.parts.flatMap((part, i) => part.kernel.bindings(part.params).map((b) => ({ ...b, name: prefix(i) + b.name }))),
  uniforms: fusedUniformFields,
  uniformLayout: (p) => uniformLayout(fusedUniformFields(p)),
  workgroupSize: (p) => [p.lanes, 1, 1],
  body: () => { throw new Error('fusedKernel renders its whole module (wgsl), not a body'); },
};

/** The name traces show for a fused dispatch: its parts' kernels joined by '+'. */
export function fusedName(p: FusedParams): string {
  return p.parts.map((part) => part.kernel.name).join('+');
}

/** The merged uniform values: each part's under its prefix, its grid, and the total count of fused workgroups. */
export function fusedUniforms(
  p: FusedParams, parts: ReadonlyArray<{ uniforms: Record<string, number | ArrayLike<number>>; workgroups: readonly [number, number, number] }>,
): Record<string, number | ArrayLike<number>> {
  const out: Record<string, number | ArrayLike<number>> = {};
  let end = 0;
  parts.forEach((part, i) => {
    const pre = prefix(i);
    for (const [k, v] of Object.entries(part.uniforms)) out[pre + k] = v;
    const [gx, gy, gz] = part.workgroups;
    end += gx * gy * gz * splitOf(p.parts[i]!, p.lanes);
    Object.assign(out, { [`${pre}gx`]: gx, [`${pre}gy`]: gy, [`${pre}gz`]: gz, [`${pre}gxy`]: gx * gy, [`${pre}end`]: end });
  });
  out.total = end;
  return out;
}

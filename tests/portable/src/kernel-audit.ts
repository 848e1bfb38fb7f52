/**
 * Loaded with mocha's --require by default-limits.test.ts's child run: records every kernel the
 * tests dispatch (storage buffers and workgroup invocations at each specialisation) and writes the
 * record to the file named by env SQUEEZE_KERNEL_AUDIT when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { Runtime } from '@squeeze/core';
import { fusedKernel, type Kernel } from '@squeeze/kernels-wgsl';

export interface KernelAudit { [kernel: string]: { storageBuffers: number; invocations: number; specialisations: number } }

const out = process.env['SQUEEZE_KERNEL_AUDIT'];
if (out) {
  const seen = new Map<string, { storageBuffers: number; invocations: number; keys: Set<string> }>();
  const note = <P>(kernel: Kernel<P>, params: P): void => {
    const [x, y, z] = kernel.workgroupSize(params);
    const entry = seen.get(kernel.name) ?? { storageBuffers: 0, invocations: 0, keys: new Set<string>() };
    entry.storageBuffers = Math.max(entry.storageBuffers, kernel.bindings(params).length);
    entry.invocations = Math.max(entry.invocations, x * y * z);
    entry.keys.add(kernel.key(params));
    seen.set(kernel.name, entry);
  };
  const run = Runtime.prototype.run;
  Runtime.prototype.run = function (this: Runtime, ...args: Parameters<Runtime['run']>) {
    note(args[0], args[1]);
    return run.apply(this, args);
  } as Runtime['run'];
  // What reaches the device: a horizontally fused kernel is dispatched, never `run` (runtime/fusion.ts).
  type Dispatching = { dispatch(d: { kernel: Kernel<unknown>; params: unknown }): void };
  const proto = Runtime.prototype as unknown as Dispatching;
  const dispatch = proto.dispatch;
  proto.dispatch = function (this: Dispatching, d) {
    if (d.kernel === fusedKernel) note(d.kernel, d.params);
    return dispatch.call(this, d);
  };
  process.on('exit', () => {
    const audit: KernelAudit = {};
    for (const [name, e] of seen) audit[name] = { storageBuffers: e.storageBuffers, invocations: e.invocations, specialisations: e.keys.size };
    writeFileSync(out, JSON.stringify(audit, null, 1));
  });
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { add, init, mulScalar, sum, tensor, tidy, VULKAN_FIX, WEBGPU_DEFAULT_LIMITS, type DeviceDescription, type LimitName } from '@squeeze/core';
import { defineCommand } from '../flags.js';
import { adapterFlag } from './common.js';

/** Values of the self-test: odd length and mixed signs, so a partial or misaligned dispatch shows. */
const CHECK_LENGTH = 1027;
const CHECK_TOLERANCE = 1e-3;

/** The webgpu package that @squeeze/core loads (it bundles Dawn), found the way core resolves it. */
function webgpuPackage(): { version: string; dir: string } {
  const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@squeeze/core'));
  const manifest = requireFromCore.resolve('webgpu/package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { version, dir: dirname(manifest) };
}

/** "Mesa 25.0.7 (LLVM 15.0.6)" and the like, from the adapter description; undefined for non-Mesa drivers. */
function mesaVersion(d: DeviceDescription): string | undefined {
  return /Mesa [^\s]+(?: \(LLVM [^)]+\))?/.exec(d.description)?.[0];
}

function printDevice(d: DeviceDescription): void {
  const mesa = mesaVersion(d);
  console.log(`Adapter:      ${d.description || d.device}`);
  console.log(`  vendor ${d.vendor || '?'}, architecture ${d.architecture || '?'}, device ${d.device || '?'}`);
  console.log(`  backend ${d.backend}, ${d.software ? 'software (runs on the CPU)' : 'hardware'}`);
  if (mesa) console.log(`Driver:       ${mesa}`);
  console.log(`Features:     ${d.features.join(', ') || '(none)'}`);
  // Kernels that share loads through subgroup operations need one fixed size (conv2d's tuning).
  const subgroups = d.subgroupSize > 0 ? `${d.subgroupSize} lanes (fixed size)`
    : d.features.includes('subgroups') ? 'size varies (no subgroup sharing in the kernels)' : 'none';
  console.log(`Subgroups:    ${subgroups}`);
  console.log('Limits:                               this device  (WebGPU default)');
  for (const [name, value] of Object.entries(d.limits)) {
    console.log(`  ${name.padEnd(36)}${String(value).padStart(11)}  (${WEBGPU_DEFAULT_LIMITS[name as LimitName]})`);
  }
}

/** Runs element-wise and reduction kernels on the GPU and compares them with the same sums on the CPU. */
async function computeCheck(): Promise<string | undefined> {
  const values = Float32Array.from({ length: CHECK_LENGTH }, (_, i) => (i % 17) - 8 + i / CHECK_LENGTH);
  const { tripled, total } = tidy(() => {
    const x = tensor(values);
    const tripledT = add(mulScalar(x, 2), x);
    return { tripled: tripledT, total: sum(tripledT) };
  });
  try {
    const gpuTripled = await tripled.data();
    const gpuTotal = await total.item();
    let expectedTotal = 0;
    for (let i = 0; i < values.length; i++) {
      const expected = 3 * values[i]!;
      expectedTotal += expected;
      if (Math.abs(gpuTripled[i]! - expected) > CHECK_TOLERANCE) return `element ${i}: got ${gpuTripled[i]}, expected ${expected}`;
    }
    if (Math.abs(gpuTotal - expectedTotal) > CHECK_TOLERANCE * values.length) return `sum: got ${gpuTotal}, expected ${expectedTotal}`;
    return undefined;
  } finally {
    tripled.dispose();
    total.dispose();
  }
}

export default defineCommand({
  name: 'doctor',
  summary: 'Check the GPU set-up: adapter, driver, limits and a test computation',
  flags: {
    adapter: adapterFlag,
    default_limits: { type: 'bool', help: "Open the device with WebGPU's default limits (what a web page gets that asks for none) and check there" },
  },
  async run(flags) {
    const webgpu = webgpuPackage();
    console.log(`Node:         ${process.version} (${process.platform}-${process.arch})`);
    console.log(`webgpu:       ${webgpu.version} (Dawn, ${join(webgpu.dir, 'dist', `${process.platform}-${process.arch}`)})`);
    // NoAdapterError (no driver, or no adapter matching --adapter) carries the fix; the CLI prints it.
    // Dawn itself prints two 'artificially reduced' warnings on Vulkan adapters here: harmless.
    const runtime = await init({ adapter: flags.adapter, limits: flags.default_limits ? 'default' : undefined });
    printDevice(runtime.description);
    console.log('OK  adapter and device opened');
    let problem: string | undefined;
    try {
      problem = await computeCheck();
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (problem !== undefined) {
      console.error(`FAIL compute check: ${problem}`);
      console.error(`The driver computes wrong results. ${VULKAN_FIX}`);
      return 1;
    }
    console.log(`OK  compute shaders run and agree with the CPU (${CHECK_LENGTH} values)`);
    console.log('OK  squeeze can use this GPU');
    return 0;
  },
});

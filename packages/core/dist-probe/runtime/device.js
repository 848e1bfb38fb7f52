import { create, globals } from 'webgpu';
// Dawn's node binding exposes the WebGPU constants (GPUBufferUsage, …) as `globals`.
Object.assign(globalThis, globals);
// Dawn's Vulkan loader warns when XDG_RUNTIME_DIR is unset; a harmless default keeps output clean.
process.env.XDG_RUNTIME_DIR ??= '/tmp';
let dawnInstance = null;
export const OPTIONAL_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'];
export class NoAdapterError extends Error {
    name = 'NoAdapterError';
}
export const VULKAN_FIX = 'Dawn needs a Vulkan driver. On Debian 12 run `bash scripts/setup-system.sh` (installs Mesa 25 ' +
    "lavapipe from bookworm-backports; Debian 12's own Mesa 22.3 is rejected by Dawn), elsewhere " +
    "install your GPU vendor's Vulkan driver or Mesa >= 23 (mesa-vulkan-drivers).";
const KEY_LIMITS = [
    'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage', 'minUniformBufferOffsetAlignment',
];
const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|swiftshader|software|warp/i;
function describe(adapter, device) {
    const info = adapter.info;
    const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
    const limits = {};
    for (const k of KEY_LIMITS)
        limits[k] = Number(device.limits[k]);
    const backend = info.backendType ?? 'vulkan';
    return {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        backend,
        software: SOFTWARE_ADAPTERS.test(text) || info.isFallbackAdapter === true,
        features: [...device.features].sort(),
        limits,
    };
}
function adapterText(a) {
    const i = a.info;
    return `${i.vendor} ${i.architecture} ${i.device} ${i.description}`;
}
/**
 * Opens a WebGPU device through Dawn. `adapter` (or env SQUEEZE_ADAPTER) picks an adapter by a
 * case-insensitive substring of its vendor/architecture/device/description; by default a hardware
 * adapter is preferred and a software one (llvmpipe) is the fallback.
 */
export async function openDevice(opts = {}) {
    const wanted = opts.adapter ?? process.env.SQUEEZE_ADAPTER;
    // The Dawn instance must outlive every device made from it: if it is garbage collected, Dawn's
    // event processing touches freed state and the process aborts at random (mutex errors,
    // segfaults). Keep it alive for the life of the process.
    const gpu = create([]);
    const candidates = [];
    for (const req of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }]) {
        const a = await gpu.requestAdapter(req).catch(() => null);
        if (a && !candidates.some((c) => adapterText(c) === adapterText(a)))
            candidates.push(a);
    }
    if (candidates.length === 0)
        throw new NoAdapterError(`No WebGPU adapter found. ${VULKAN_FIX}`);
    let adapter;
    if (wanted) {
        adapter = candidates.find((a) => adapterText(a).toLowerCase().includes(wanted.toLowerCase()));
        if (!adapter) {
            throw new NoAdapterError(`No WebGPU adapter matches '${wanted}' (from ${opts.adapter ? '--adapter' : 'SQUEEZE_ADAPTER'}); available: ` +
                candidates.map((a) => `'${a.info.description || a.info.device || a.info.vendor}'`).join(', ') + '.');
        }
    }
    else {
        adapter = candidates.find((a) => !SOFTWARE_ADAPTERS.test(adapterText(a))) ?? candidates[0];
    }
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const requiredLimits = {};
    for (const k of KEY_LIMITS) {
        if (k === 'minUniformBufferOffsetAlignment')
            continue;
        requiredLimits[k] = Number(adapter.limits[k]);
    }
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    return { device, adapter, description: describe(adapter, device) };
}
//# sourceMappingURL=device.js.map
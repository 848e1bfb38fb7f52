export declare const OPTIONAL_FEATURES: GPUFeatureName[];
export interface DeviceDescription {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    backend: string;
    /** true for a software adapter such as Mesa's llvmpipe (lavapipe) or SwiftShader. */
    software: boolean;
    features: string[];
    limits: Record<string, number>;
}
export interface OpenedDevice {
    device: GPUDevice;
    adapter: GPUAdapter;
    description: DeviceDescription;
}
export declare class NoAdapterError extends Error {
    name: string;
}
export declare const VULKAN_FIX: string;
/**
 * Opens a WebGPU device through Dawn. `adapter` (or env SQUEEZE_ADAPTER) picks an adapter by a
 * case-insensitive substring of its vendor/architecture/device/description; by default a hardware
 * adapter is preferred and a software one (llvmpipe) is the fallback.
 */
export declare function openDevice(opts?: {
    adapter?: string;
}): Promise<OpenedDevice>;

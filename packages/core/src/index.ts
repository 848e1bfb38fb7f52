/// <reference types="@webgpu/types" preserve="true" />
/**
 * The Node entry (the package's `node` export condition): the whole API, with `init()` opening a
 * device through Dawn (npm `webgpu`), plus Dawn's own helpers.
 */
import './runtime/node-platform.js';

export * from './api.js';
export { dawn, openDevice, VULKAN_FIX, type NodeDeviceOptions } from './runtime/dawn.js';

/// <reference types="@webgpu/types" preserve="true" />
/**
 * The entry for pages, workers and other standard WebGPU hosts (the package's `browser` and default
 * export conditions): `init()` opens a device from navigator.gpu, or takes yours: `init({ device })`.
 */
export * from './api.js';

import { init, type DeviceDescription } from '@squeeze/core';

/** Where WebGPU is missing, what the person can do about it, in one line. */
export function webgpuMissingReason(): string | null {
  if (!window.isSecureContext) {
    return `WebGPU needs a secure context, and ${location.origin} is not one: open the page as http://localhost:${location.port || 80}/ or http://127.0.0.1:${location.port || 80}/ on the machine running 'squeeze web' (an SSH tunnel works: ssh -L ${location.port || 8080}:127.0.0.1:${location.port || 8080} host), or serve it over HTTPS.`;
  }
  if (!('gpu' in navigator)) {
    return 'This browser has no WebGPU: use Chrome or Edge 113 or newer (on Linux, enable chrome://flags/#enable-unsafe-webgpu or start Chrome with --enable-unsafe-webgpu), Safari 26 or newer, or Firefox 141 or newer on Windows (elsewhere Firefox Nightly, with dom.webgpu.enabled in about:config).';
  }
  return null;
}

/** Opens squeeze's runtime on the browser's WebGPU adapter; the description says which adapter it is. */
export async function openGpu(): Promise<DeviceDescription> {
  const runtime = await init();
  return runtime.description;
}

/** One line for the page's header: the adapter's vendor and architecture, and whether it is a software adapter. */
export function adapterLine(d: DeviceDescription): string {
  const name = [d.vendor, d.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const detail = d.description && d.description !== name ? ` (${d.description})` : '';
  const kind = d.software
    ? 'a software adapter: training runs on the CPU and is slow (browsers use one where they find no usable GPU)'
    : 'hardware';
  return `WebGPU adapter: ${name}${detail} — ${kind}`;
}

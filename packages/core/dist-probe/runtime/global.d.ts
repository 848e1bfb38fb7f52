import { Runtime } from './runtime.js';
/** Opens the default GPU runtime (once); every tensor op uses it. */
export declare function init(opts?: {
    adapter?: string;
}): Promise<Runtime>;
export declare function getRuntime(): Runtime;
export declare function hasRuntime(): boolean;
/** Destroys the device so the process can exit; tensors created before are unusable afterwards. */
export declare function shutdown(): void;

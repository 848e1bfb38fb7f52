import { Runtime } from './runtime.js';
let current = null;
/** Opens the default GPU runtime (once); every tensor op uses it. */
export async function init(opts = {}) {
    if (current)
        return current;
    current = await Runtime.open(opts);
    return current;
}
export function getRuntime() {
    if (!current)
        throw new Error('squeeze is not initialised: call `await init()` first');
    return current;
}
export function hasRuntime() { return current !== null; }
/** Destroys the device so the process can exit; tensors created before are unusable afterwards. */
export function shutdown() {
    current?.destroy();
    current = null;
}
//# sourceMappingURL=global.js.map
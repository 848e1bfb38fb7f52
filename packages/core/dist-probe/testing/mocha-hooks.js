import { init, shutdown } from '../runtime/global.js';
/** Mocha root hooks: one GPU runtime for the whole run, destroyed at the end so Node exits. */
export const mochaHooks = {
    async beforeAll() { await init(); },
    afterAll() { shutdown(); },
};
//# sourceMappingURL=mocha-hooks.js.map
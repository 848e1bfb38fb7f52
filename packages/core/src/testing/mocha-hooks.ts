import '../runtime/node-platform.js';
import { init, shutdown } from '../runtime/global.js';

/**
 * Mocha root hooks: one GPU runtime for the whole run, destroyed at the end so Node exits. With env
 * SQUEEZE_DEFAULT_LIMITS=1 the device has WebGPU's default limits (as a page that asks for nothing),
 * the check that every kernel reads its limits from the device.
 */
export const mochaHooks = {
  async beforeAll(): Promise<void> { await init(); },
  afterAll(): void { shutdown(); },
  // names the test file for SQUEEZE_PIPELINE_LOG when a compile's stack does not
  beforeEach(this: Mocha.Context): void { (globalThis as { squeezeTestFile?: string }).squeezeTestFile = this.currentTest?.file; },
};

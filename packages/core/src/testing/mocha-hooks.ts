import '../runtime/node-platform.js';
import { appendFileSync } from 'node:fs';
import { init, shutdown } from '../runtime/global.js';

const pipelineLog = process.env.SQUEEZE_PIPELINE_LOG;

/**
 * Mocha root hooks: one GPU runtime per test file (mocha runs files in parallel worker processes, see
 * .mocharc.json; a serial run keeps one for the whole run), destroyed at the end so Node exits. With env
 * SQUEEZE_DEFAULT_LIMITS=1 the device has WebGPU's default limits (as a page that asks for nothing),
 * the check that every kernel reads its limits from the device.
 */
export const mochaHooks = {
  async beforeAll(): Promise<void> { await init(); },
  afterAll(): void { shutdown(); },
  // SQUEEZE_PIPELINE_LOG: each test's start, and its file for compiles whose stack does not name it;
  // then its end and duration, which with an empty shader cache is mostly the compiles logged between.
  beforeEach(this: Mocha.Context): void {
    (globalThis as { squeezeTestFile?: string }).squeezeTestFile = this.currentTest?.file;
    if (pipelineLog) appendFileSync(pipelineLog, JSON.stringify({ t: Date.now(), pid: process.pid, test: this.currentTest?.fullTitle(), file: this.currentTest?.file }) + '\n');
  },
  afterEach(this: Mocha.Context): void {
    if (pipelineLog) appendFileSync(pipelineLog, JSON.stringify({ t: Date.now(), pid: process.pid, ended: this.currentTest?.fullTitle(), ms: this.currentTest?.duration }) + '\n');
  },
};

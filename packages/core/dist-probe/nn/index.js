export * from './module.js';
export { manualSeed, fans, uniformInit, glorotUniform, kaimingUniform } from './init.js';
export * from './layers.js';
export * from './loss.js';
//# sourceMappingURL=index.js.map
export * from './module.js';
export type { StateValue } from './state-dict.js';
export { manualSeed, fans, uniformInit, glorotUniform, kaimingUniform, type LayerInit } from './init.js';
export * from './layers.js';
export * from './loss.js';
export * from './containers.js';
export * from './layers-extra.js';

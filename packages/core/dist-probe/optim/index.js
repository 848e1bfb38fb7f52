export { Optimizer } from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
//# sourceMappingURL=index.js.map
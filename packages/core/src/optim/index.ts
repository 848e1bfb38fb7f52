export { Optimizer, type FlatUpdate, type ParamsInput, type OptimizerStateDict } from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './clip.js';
export * from './schedulers.js';

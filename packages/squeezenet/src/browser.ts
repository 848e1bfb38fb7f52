/**
 * The entry for pages and other hosts without Node's modules (the package's `browser` and default
 * export conditions): the model, which needs nothing but @squeeze/core. Data sets, checkpoints,
 * export and the training loop read and write files, so they come from the Node entry.
 */
export * from './model/squeezenet.js';

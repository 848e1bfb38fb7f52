/**
 * The entry for pages and other hosts without Node's modules (the package's `browser` and default
 * export conditions): the model, the training step, evaluation, batching, image preprocessing and
 * the prepared-data, checkpoint and export formats as bytes — what the web page shares with
 * `squeeze train`, `squeeze save` and `squeeze predict`. Reading and writing files (datasets,
 * checkpoints, exports) comes from the Node entry; the training loop is here, its storage the caller's.
 */
export * from './model/squeezenet.js';
export * from './train/step.js';
export * from './train/loop.js';
export * from './train/format.js';
export * from './train/state.js';
export * from './predict/logits.js';
export * from './export/weights.js';
export { testBatches, TrainBatcher, type TestBatch, type TrainBatch, type TrainBatcherOptions, type TrainBatcherState } from './data/batches.js';
export { parseDataFile } from './data/datafile-bytes.js';
export { modelInputFromRgba, resizeBilinear } from './data/image.js';
export { DataError } from './data/errors.js';
export { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH, type Split } from './data/split.js';
export { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './formats/safetensors-bytes.js';
export { FormatError } from './formats/errors.js';
export type { CheckpointMeta } from './checkpoint/checkpoint.js';

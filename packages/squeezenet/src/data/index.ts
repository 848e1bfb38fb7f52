export { DataError } from './errors.js';
export {
  IMAGE_BYTES,
  IMAGE_CHANNELS,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  type Split,
} from './split.js';
export {
  CIFAR10_ARCHIVE_MD5,
  CIFAR10_ARCHIVE_NAME,
  CIFAR10_ARCHIVE_SIZE,
  CIFAR10_CLASSES,
  CIFAR10_FOLDER,
  CIFAR10_META_FILE,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  CIFAR10_URL,
  encodeCifarBatch,
  parseCifarBatch,
  readCifarBatchFile,
} from './cifar.js';
export { FASHION_MNIST_CLASSES, FASHION_MNIST_SYSTEM_DIR, locateFashionMnist, readFashionMnistSplit } from './fashion.js';
export { downloadCifar10, md5OfFile, type DownloadOptions } from './download.js';
export { DATASET_NAMES, datasetPaths, labelsText, type DatasetMeta, type DatasetName } from './layout.js';
export { readDataFile, writeDataFile } from './datafile.js';
export { parseDataFile } from './datafile-bytes.js';
export { classFolderName, setupData, type SetupOptions, type SetupResult } from './setup.js';
export {
  loadDataset,
  testBatches,
  TrainBatcher,
  type LoadedDataset,
  type TestBatch,
  type TrainBatch,
  type TrainBatcherOptions,
  type TrainBatcherState,
} from './dataset.js';
export { chwToInterleaved, decodeImageFile, encodePngRgb, modelInputFromRgba, resizeBilinear, type DecodedImage } from './png.js';
export { makeCifarFixture, type CifarFixtureOptions } from './fixture.js';

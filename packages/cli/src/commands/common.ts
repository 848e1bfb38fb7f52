import type { DataFormat } from '@squeeze/core';
import type { EnumFlag, IntFlag, StringFlag } from '../flags.js';

/** Flags several commands share, declared once so their names, defaults and help agree. */

export const DATA_FORMATS = ['NCHW', 'NHWC'] as const satisfies readonly DataFormat[];

export const modelDirFlag = {
  type: 'string',
  default: 'data',
  metavar: 'DIR',
  help: 'Directory for checkpoints, TensorBoard event files and exported models',
} as const satisfies StringFlag;

export const dataDirFlag = {
  type: 'string',
  default: 'data',
  metavar: 'DIR',
  help: "Directory holding the dataset prepared by 'squeeze setup'",
} as const satisfies StringFlag;

export const dataFormatFlag = {
  type: 'enum',
  choices: DATA_FORMATS,
  default: 'NCHW',
  help: 'Tensor layout: NCHW (channels first) or NHWC (channels last, as TensorFlow on CPU)',
} as const satisfies EnumFlag<DataFormat>;

export const batchSizeFlag = {
  type: 'int',
  default: 32,
  min: 1,
  help: 'Images per batch',
} as const satisfies IntFlag;

export const adapterFlag = {
  type: 'string',
  metavar: 'NAME',
  defaultHelp: 'env SQUEEZE_ADAPTER, else a hardware adapter, else llvmpipe',
  help: 'GPU adapter to use: a case-insensitive part of its vendor, architecture, device or description',
} as const satisfies StringFlag;

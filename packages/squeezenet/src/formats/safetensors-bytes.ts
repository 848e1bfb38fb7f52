import {
  decodeSafetensors as decodeCore, SafetensorsFormatError, type SafetensorsFile,
} from '@squeeze/core';
import { FormatError } from './errors.js';

/**
 * safetensors as bytes: core's codec (browser-safe, so the web page reads and writes the same
 * files as the CLI), with its format errors as this package's FormatError.
 */
export {
  encodeSafetensors, SAFETENSORS_MAX_HEADER_BYTES,
  type SafetensorsData, type SafetensorsDType, type SafetensorsFile, type SafetensorsTensor,
} from '@squeeze/core';

/** Decodes and strictly validates safetensors bytes; a malformed file is a FormatError naming `file`. */
export function decodeSafetensors(bytes: Uint8Array, file = '<bytes>'): SafetensorsFile {
  try {
    return decodeCore(bytes, file);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new FormatError(e.file, e.message.slice(e.file.length + 2));
    throw e;
  }
}

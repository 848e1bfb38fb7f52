/** File formats written/read by the SqueezeNet workflow (checkpoints, logs, exports, reports). */
export { FormatError } from './errors.js';
export { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsBytes,
  writeSafetensors,
  writeSafetensorsSync,
  type SafetensorsData,
  type SafetensorsDType,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './safetensors.js';
export {
  crc32c,
  decodeTfRecords,
  encodeTfRecord,
  maskCrc,
  maskedCrc32c,
  type DecodeTfRecordsOptions,
} from './tfrecord.js';
export {
  EventWriter,
  decodeGraphDef,
  encodeGraphDef,
  readEvents,
  type DecodedAttrValue,
  type DecodedEvent,
  type DecodedGraph,
  type DecodedGraphNode,
  type GraphAttrInput,
  type GraphDefInput,
  type GraphNodeInput,
  type TfDataType,
} from './tfevents.js';
export {
  ONNX_FLOAT,
  ONNX_INT64,
  ONNX_IR_VERSION,
  buildOnnxModel,
  decodeOnnxModel,
  type DecodedOnnxModel,
  type DecodedValueInfo,
  type OnnxAttrValue,
  type OnnxGraphInput,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValueInfo,
} from './onnx.js';
export {
  ChromeTrace,
  summariseDurations,
  type DurationSummary,
  type TraceCompleteEvent,
  type TraceEvent,
  type TraceJson,
} from './trace.js';
export {
  renderLineChart,
  type ChartLayout,
  type LineChartOptions,
  type LineSeries,
  type RenderedChart,
} from './plot.js';

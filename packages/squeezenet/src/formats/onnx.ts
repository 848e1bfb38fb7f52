import protobuf from 'protobufjs';

import { FormatError } from './errors.js';

/**
 * Minimal ONNX model builder. The schema is the subset of onnx/onnx.proto
 * (the canonical proto2 file) that we need, with its field numbers. Fields
 * declared there without [packed = true] are kept unpacked, so our bytes match
 * what the official serializer produces; readers accept either encoding.
 */
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7, options: { packed: false } },
            ints: { rule: 'repeated', type: 'int64', id: 8, options: { packed: false } },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            doc_string: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5,
                FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
                SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            doc_string: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, options: { packed: false } },
            data_type: { type: 'int32', id: 2 },
            float_data: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32_data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            int64_data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
            double_data: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            doc_string: { type: 'string', id: 12 },
          },
          nested: {
            DataType: {
              values: {
                UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
                STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
              },
            },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: { type: 'int64', id: 1 },
                dim_param: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: {
            tensor_type: { type: 'Tensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
};

// onnx.proto is proto2: fields have explicit presence, so a value that is set
// is serialized even when it equals the default (ONNX Runtime checks
// has_i()/has_f(), e.g. ArgMax keepdims = 0 must be on the wire). Without
// this, protobufjs would treat JSON-defined types as proto3 and drop zeros.
for (const t of Object.values(ONNX_SCHEMA.nested.onnx.nested)) (t as { edition?: string }).edition = 'proto2';
const onnxRoot = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = onnxRoot.lookupType('onnx.ModelProto');

/** TensorProto.DataType values we emit. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** IR version 8 = ONNX 1.13 (opsets up to 18). */
export const ONNX_IR_VERSION = 8;

export interface OnnxValueInfo {
  name: string;
  elemType: 'float' | 'int64';
  /** Numbers are fixed sizes; strings are symbolic dims (e.g. 'N' for batch). */
  shape: Array<number | string>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/**
 * Node attribute. number -> INT if an integer, else FLOAT; number[] -> INTS;
 * string -> STRING; {floats} -> FLOATS. Use {float} / {int} when the
 * operator's declared attribute type must win over the value's look
 * (e.g. Gemm alpha = 1 must be {float: 1}).
 */
export type OnnxAttrValue = number | number[] | string | { floats: number[] } | { float: number } | { int: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Operator domain; '' (default) is the standard ai.onnx domain. */
  domain?: string;
  attrs?: Record<string, OnnxAttrValue>;
}

export interface OnnxGraphInput {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxInitializer[];
  nodes: OnnxNode[];
  /** Default-domain opset; must be >= 13. */
  opset: number;
  graphName?: string;
  producer?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  /** Override ONNX_IR_VERSION, e.g. for opsets newer than 18. */
  irVersion?: number;
}

const ELEM_TYPES: Record<OnnxValueInfo['elemType'], number> = { float: ONNX_FLOAT, int64: ONNX_INT64 };

function valueInfo(v: OnnxValueInfo): object {
  const dim = v.shape.map((d) => {
    if (typeof d === 'string') return { dim_param: d };
    if (!Number.isSafeInteger(d) || d < 0) throw new TypeError(`ONNX value "${v.name}": bad dim ${d}`);
    return { dim_value: d };
  });
  return { name: v.name, type: { tensor_type: { elem_type: ELEM_TYPES[v.elemType], shape: { dim } } } };
}

function initializer(t: OnnxInitializer): object {
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`ONNX initializer "${t.name}": dims must be non-negative integers, got [${t.dims.join(', ')}]`);
  }
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) {
    throw new TypeError(`ONNX initializer "${t.name}": dims [${t.dims.join(', ')}] need ${n} elements, data has ${t.data.length}`);
  }
  let dataType: number;
  if (t.data instanceof Float32Array) dataType = ONNX_FLOAT;
  else if (t.data instanceof BigInt64Array) dataType = ONNX_INT64;
  else throw new TypeError(`ONNX initializer "${t.name}": data must be Float32Array or BigInt64Array`);
  // raw_data is defined as little-endian; typed arrays are host order, and
  // every platform Node runs on is little-endian.
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dims: t.dims, data_type: dataType, raw_data: raw };
}

function attribute(name: string, v: OnnxAttrValue): object {
  // AttributeType: FLOAT=1 INT=2 STRING=3 FLOATS=6 INTS=7
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (typeof v === 'string') return { name, type: 3, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) {
    if (!v.every(Number.isInteger)) throw new TypeError(`ONNX attribute "${name}": INTS must be integers; use {floats} for floats`);
    return { name, type: 7, ints: v };
  }
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  if ('float' in v) return { name, type: 1, f: v.float };
  if ('int' in v) return { name, type: 2, i: v.int };
  throw new TypeError(`ONNX attribute "${name}": unsupported value`);
}

/** Builds a serialized onnx.ModelProto. */
export function buildOnnxModel(g: OnnxGraphInput): Uint8Array {
  if (!Number.isInteger(g.opset) || g.opset < 13) throw new RangeError(`ONNX opset must be an integer >= 13, got ${g.opset}`);
  const model = {
    ir_version: g.irVersion ?? ONNX_IR_VERSION,
    producer_name: g.producer ?? 'squeeze',
    producer_version: g.producerVersion ?? '',
    doc_string: g.docString ?? '',
    opset_import: [{ domain: '', version: g.opset }],
    metadata_props: Object.entries(g.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.graphName ?? 'main',
      node: g.nodes.map((n, i) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        op_type: n.op,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: g.initializers.map(initializer),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Plain-object view of a decoded ModelProto (snake_case, as in onnx.proto). */
export interface DecodedOnnxModel {
  ir_version: number;
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  opset_import: Array<{ domain?: string; version: number }>;
  metadata_props: Array<{ key: string; value: string }>;
  graph: {
    name?: string;
    node: Array<{
      input: string[];
      output: string[];
      name?: string;
      op_type: string;
      domain?: string;
      attribute: Array<{ name: string; type: string; f?: number; i?: number; s?: string; floats?: number[]; ints?: number[] }>;
    }>;
    initializer: Array<{ name: string; dims: number[]; data_type: number; raw_data?: Uint8Array; data: Float32Array | BigInt64Array | null }>;
    input: DecodedValueInfo[];
    output: DecodedValueInfo[];
  };
}

export interface DecodedValueInfo {
  name: string;
  elemType: number;
  shape: Array<number | string>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- toObject output is untyped */
function decodeValueInfo(v: any): DecodedValueInfo {
  const tt = v.type?.tensor_type ?? {};
  return {
    name: v.name ?? '',
    elemType: tt.elem_type ?? 0,
    shape: (tt.shape?.dim ?? []).map((d: any) => (d.dim_param !== undefined ? d.dim_param : d.dim_value ?? 0)),
  };
}

function decodeTensorData(t: any): Float32Array | BigInt64Array | null {
  if (!t.raw_data) return null;
  const raw: Uint8Array = t.raw_data;
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  if (t.data_type === ONNX_FLOAT && raw.byteLength % 4 === 0) return new Float32Array(copy.buffer);
  if (t.data_type === ONNX_INT64 && raw.byteLength % 8 === 0) return new BigInt64Array(copy.buffer);
  return null;
}

/** Decodes a serialized ModelProto into a plain object (for tests and inspection). */
export function decodeOnnxModel(bytes: Uint8Array, label = '<bytes>'): DecodedOnnxModel {
  let o: any;
  try {
    o = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, enums: String, arrays: true, defaults: false });
  } catch (err) {
    throw new FormatError(label, `invalid ONNX ModelProto (${err instanceof Error ? err.message : String(err)})`);
  }
  const g = o.graph ?? {};
  return {
    ir_version: o.ir_version ?? 0,
    ...(o.producer_name !== undefined ? { producer_name: o.producer_name } : {}),
    ...(o.producer_version !== undefined ? { producer_version: o.producer_version } : {}),
    ...(o.doc_string !== undefined ? { doc_string: o.doc_string } : {}),
    opset_import: o.opset_import.map((x: any) => ({ ...(x.domain !== undefined ? { domain: x.domain } : {}), version: x.version ?? 0 })),
    metadata_props: o.metadata_props.map((x: any) => ({ key: x.key ?? '', value: x.value ?? '' })),
    graph: {
      ...(g.name !== undefined ? { name: g.name } : {}),
      node: (g.node ?? []).map((n: any) => ({
        input: n.input ?? [],
        output: n.output ?? [],
        ...(n.name !== undefined ? { name: n.name } : {}),
        op_type: n.op_type ?? '',
        ...(n.domain !== undefined ? { domain: n.domain } : {}),
        attribute: (n.attribute ?? []).map((a: any) => ({
          name: a.name ?? '',
          type: a.type ?? 'UNDEFINED',
          ...(a.f !== undefined ? { f: a.f } : {}),
          ...(a.i !== undefined ? { i: a.i } : {}),
          ...(a.s !== undefined ? { s: Buffer.from(a.s).toString('utf8') } : {}),
          ...(a.floats?.length ? { floats: a.floats } : {}),
          ...(a.ints?.length ? { ints: a.ints } : {}),
        })),
      })),
      initializer: (g.initializer ?? []).map((t: any) => ({
        name: t.name ?? '',
        dims: t.dims ?? [],
        data_type: t.data_type ?? 0,
        ...(t.raw_data !== undefined ? { raw_data: t.raw_data } : {}),
        data: decodeTensorData(t),
      })),
      input: (g.input ?? []).map(decodeValueInfo),
      output: (g.output ?? []).map(decodeValueInfo),
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import protobuf from 'protobufjs';

import { FormatError } from './errors.js';
import { decodeTfRecords, encodeTfRecord, type DecodeTfRecordsOptions } from './tfrecord.js';

/**
 * TensorBoard event files: a TFRecord stream of serialized tensorflow.Event
 * protos. The schema below is the subset of TensorFlow's protos that we
 * write/read, with field numbers exactly as in:
 *   tensorflow/core/util/event.proto           (Event)
 *   tensorflow/core/framework/summary.proto    (Summary, Summary.Value)
 *   tensorflow/core/framework/graph.proto      (GraphDef)
 *   tensorflow/core/framework/versions.proto   (VersionDef)
 *   tensorflow/core/framework/node_def.proto   (NodeDef)
 *   tensorflow/core/framework/attr_value.proto (AttrValue, AttrValue.ListValue)
 *   tensorflow/core/framework/tensor_shape.proto (TensorShapeProto, .Dim)
 *   tensorflow/core/framework/types.proto      (DataType, common values)
 * Fields we never use are omitted; protobuf readers skip unknown fields, so
 * files from real TensorFlow still decode.
 */
const TF_SCHEMA = {
  nested: {
    tensorflow: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['file_version', 'graph_def', 'summary'] } },
          fields: {
            wall_time: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            file_version: { type: 'string', id: 3 },
            graph_def: { type: 'bytes', id: 4 },
            summary: { type: 'Summary', id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simple_value'] } },
              fields: {
                tag: { type: 'string', id: 1 },
                simple_value: { type: 'float', id: 2 },
                node_name: { type: 'string', id: 7 },
              },
            },
          },
        },
        GraphDef: {
          fields: {
            node: { rule: 'repeated', type: 'NodeDef', id: 1 },
            version: { type: 'int32', id: 3 }, // deprecated, read only
            versions: { type: 'VersionDef', id: 4 },
          },
        },
        VersionDef: {
          fields: {
            producer: { type: 'int32', id: 1 },
            min_consumer: { type: 'int32', id: 2 },
            bad_consumers: { rule: 'repeated', type: 'int32', id: 3 },
          },
        },
        NodeDef: {
          fields: {
            name: { type: 'string', id: 1 },
            op: { type: 'string', id: 2 },
            input: { rule: 'repeated', type: 'string', id: 3 },
            device: { type: 'string', id: 4 },
            attr: { keyType: 'string', type: 'AttrValue', id: 5 },
          },
        },
        AttrValue: {
          oneofs: { value: { oneof: ['list', 's', 'i', 'f', 'b', 'type', 'shape', 'placeholder'] } },
          fields: {
            list: { type: 'ListValue', id: 1 },
            s: { type: 'bytes', id: 2 },
            i: { type: 'int64', id: 3 },
            f: { type: 'float', id: 4 },
            b: { type: 'bool', id: 5 },
            type: { type: 'DataType', id: 6 },
            shape: { type: 'TensorShapeProto', id: 7 },
            placeholder: { type: 'string', id: 9 },
          },
          nested: {
            ListValue: {
              fields: {
                s: { rule: 'repeated', type: 'bytes', id: 2 },
                i: { rule: 'repeated', type: 'int64', id: 3 },
                f: { rule: 'repeated', type: 'float', id: 4 },
                b: { rule: 'repeated', type: 'bool', id: 5 },
                type: { rule: 'repeated', type: 'DataType', id: 6 },
                shape: { rule: 'repeated', type: 'TensorShapeProto', id: 7 },
              },
            },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dim', id: 2 },
            unknown_rank: { type: 'bool', id: 3 },
          },
          nested: {
            Dim: {
              fields: {
                size: { type: 'int64', id: 1 },
                name: { type: 'string', id: 2 },
              },
            },
          },
        },
        DataType: {
          values: {
            DT_INVALID: 0, DT_FLOAT: 1, DT_DOUBLE: 2, DT_INT32: 3, DT_UINT8: 4, DT_INT16: 5,
            DT_INT8: 6, DT_STRING: 7, DT_COMPLEX64: 8, DT_INT64: 9, DT_BOOL: 10, DT_BFLOAT16: 14,
            DT_UINT16: 17, DT_HALF: 19, DT_UINT32: 22, DT_UINT64: 23,
          },
        },
      },
    },
  },
};

// TensorFlow's protos are proto3 (implicit presence: zero scalars are not
// serialized, as TensorFlow itself does). Stated explicitly rather than
// relying on protobufjs' default for JSON-defined types.
for (const t of Object.values(TF_SCHEMA.nested.tensorflow.nested)) (t as { edition?: string }).edition = 'proto3';
const tfRoot = protobuf.Root.fromJSON(TF_SCHEMA);
const EventType = tfRoot.lookupType('tensorflow.Event');
const GraphDefType = tfRoot.lookupType('tensorflow.GraphDef');

export type TfDataType =
  | 'DT_FLOAT' | 'DT_DOUBLE' | 'DT_INT32' | 'DT_UINT8' | 'DT_INT16' | 'DT_INT8' | 'DT_STRING'
  | 'DT_COMPLEX64' | 'DT_INT64' | 'DT_BOOL' | 'DT_BFLOAT16' | 'DT_UINT16' | 'DT_HALF'
  | 'DT_UINT32' | 'DT_UINT64';

/**
 * A node attribute. The plain forms are mapped as follows:
 *   string   -> AttrValue.s
 *   boolean  -> AttrValue.b
 *   number   -> AttrValue.i if an integer, else AttrValue.f (use {f} to force float)
 *   number[] -> key "shape": AttrValue.shape (-1 = unknown dim);
 *               key "_output_shapes": list.shape with this one shape (TensorBoard
 *               draws these on edges); otherwise list.i if all integers, else list.f
 * The tagged forms say exactly which AttrValue field to use.
 */
export type GraphAttrInput =
  | string | number | boolean | number[]
  | { s: string } | { i: number } | { f: number } | { b: boolean } | { type: TfDataType }
  | { shape: number[] } | { shapes: number[][] }
  | { list: { s?: string[]; i?: number[]; f?: number[]; b?: boolean[] } };

export interface GraphNodeInput {
  /** Scoped name, e.g. "fire2/squeeze1x1/Conv2D"; "/" makes TensorBoard group nodes. */
  name: string;
  op: string;
  /** Names of input nodes ("node", "node:1" for a second output, "^node" for control). */
  inputs: string[];
  attrs?: Record<string, GraphAttrInput>;
  device?: string;
}

export interface GraphDefInput {
  nodes: GraphNodeInput[];
  /** VersionDef.producer; defaults to 22. TensorBoard only displays it. */
  producer?: number;
}

export type DecodedAttrValue =
  | { s: string } | { i: number } | { f: number } | { b: boolean } | { type: string }
  | { shape: number[] | null /* null = unknown rank */ }
  | { list: { s?: string[]; i?: number[]; f?: number[]; b?: boolean[]; type?: string[]; shape?: Array<number[] | null> } }
  | { placeholder: string }
  | Record<string, never>;

export interface DecodedGraphNode {
  name: string;
  op: string;
  inputs: string[];
  device?: string;
  attrs: Record<string, DecodedAttrValue>;
}

export interface DecodedGraph {
  nodes: DecodedGraphNode[];
  producer?: number;
  minConsumer?: number;
}

export interface DecodedEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: Array<{ tag: string; value: number }>;
  graphDef?: DecodedGraph;
}

function shapeProto(dims: readonly number[]): object {
  return { dim: dims.map((size) => ({ size })) };
}

function attrValue(key: string, v: GraphAttrInput): object {
  if (typeof v === 'string') return { s: Buffer.from(v, 'utf8') };
  if (typeof v === 'boolean') return { b: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { i: v } : { f: v };
  if (Array.isArray(v)) {
    if (key === 'shape') return { shape: shapeProto(v) };
    if (key === '_output_shapes') return { list: { shape: [shapeProto(v)] } };
    return v.every(Number.isInteger) ? { list: { i: v } } : { list: { f: v } };
  }
  if ('s' in v) return { s: Buffer.from(v.s, 'utf8') };
  if ('i' in v) return { i: v.i };
  if ('f' in v) return { f: v.f };
  if ('b' in v) return { b: v.b };
  if ('type' in v) return { type: v.type };
  if ('shape' in v) return { shape: shapeProto(v.shape) };
  if ('shapes' in v) return { list: { shape: v.shapes.map(shapeProto) } };
  if ('list' in v) {
    return {
      list: {
        ...(v.list.s ? { s: v.list.s.map((x) => Buffer.from(x, 'utf8')) } : {}),
        ...(v.list.i ? { i: v.list.i } : {}),
        ...(v.list.f ? { f: v.list.f } : {}),
        ...(v.list.b ? { b: v.list.b } : {}),
      },
    };
  }
  throw new TypeError(`graph attr "${key}": unsupported value ${JSON.stringify(v)}`);
}

/** Serialises a graph as a tensorflow.GraphDef. */
export function encodeGraphDef(g: GraphDefInput): Uint8Array {
  const node = g.nodes.map((n) => {
    if (!n.name) throw new TypeError('graph node without a name');
    const attr: Record<string, object> = {};
    for (const [k, v] of Object.entries(n.attrs ?? {})) attr[k] = attrValue(k, v);
    return { name: n.name, op: n.op, input: n.inputs, device: n.device ?? '', attr };
  });
  const msg = GraphDefType.fromObject({ node, versions: { producer: g.producer ?? 22 } });
  return GraphDefType.encode(msg).finish();
}

/* eslint-disable @typescript-eslint/no-explicit-any -- toObject output is untyped */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, arrays: true, objects: true, oneofs: false };
const utf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

function decodeShape(s: any): number[] | null {
  if (s.unknown_rank) return null;
  return (s.dim ?? []).map((d: any) => d.size ?? 0);
}

function decodeAttr(a: any): DecodedAttrValue {
  if (a.s !== undefined) return { s: utf8(a.s) };
  if (a.i !== undefined) return { i: a.i };
  if (a.f !== undefined) return { f: a.f };
  if (a.b !== undefined) return { b: a.b };
  if (a.type !== undefined) return { type: a.type };
  if (a.shape !== undefined) return { shape: decodeShape(a.shape) };
  if (a.placeholder !== undefined) return { placeholder: a.placeholder };
  if (a.list !== undefined) {
    const l = a.list;
    const list: Extract<DecodedAttrValue, { list: unknown }>['list'] = {};
    if (l.s?.length) list.s = l.s.map(utf8);
    if (l.i?.length) list.i = l.i;
    if (l.f?.length) list.f = l.f;
    if (l.b?.length) list.b = l.b;
    if (l.type?.length) list.type = l.type;
    if (l.shape?.length) list.shape = l.shape.map(decodeShape);
    return { list };
  }
  return {};
}

/** Decodes a serialized tensorflow.GraphDef (protobuf errors become FormatError). */
export function decodeGraphDef(bytes: Uint8Array, label = '<bytes>'): DecodedGraph {
  let o: any;
  try {
    o = GraphDefType.toObject(GraphDefType.decode(bytes), TO_OBJECT);
  } catch (err) {
    throw new FormatError(label, `invalid GraphDef protobuf (${err instanceof Error ? err.message : String(err)})`);
  }
  const nodes: DecodedGraphNode[] = (o.node ?? []).map((n: any) => {
    const attrs: Record<string, DecodedAttrValue> = {};
    for (const [k, v] of Object.entries(n.attr ?? {})) attrs[k] = decodeAttr(v);
    return {
      name: n.name ?? '',
      op: n.op ?? '',
      inputs: n.input ?? [],
      ...(n.device ? { device: n.device } : {}),
      attrs,
    };
  });
  return {
    nodes,
    ...(o.versions?.producer !== undefined ? { producer: o.versions.producer } : {}),
    ...(o.versions?.min_consumer !== undefined ? { minConsumer: o.versions.min_consumer } : {}),
  };
}

function decodeEvent(bytes: Uint8Array, label: string, index: number): DecodedEvent {
  let o: any;
  try {
    o = EventType.toObject(EventType.decode(bytes), TO_OBJECT);
  } catch (err) {
    throw new FormatError(label, `record ${index} is not a valid Event protobuf (${err instanceof Error ? err.message : String(err)})`);
  }
  const ev: DecodedEvent = { wallTime: o.wall_time ?? 0, step: o.step ?? 0 };
  if (o.file_version !== undefined) ev.fileVersion = o.file_version;
  if (o.summary !== undefined) {
    ev.scalars = (o.summary.value ?? [])
      .filter((v: any) => v.simple_value !== undefined)
      .map((v: any) => ({ tag: v.tag ?? '', value: v.simple_value }));
  }
  if (o.graph_def !== undefined) ev.graphDef = decodeGraphDef(o.graph_def, `${label} (record ${index} graph_def)`);
  return ev;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Reads an event file, verifying every record's CRCs. Throws FormatError on
 * corruption; with allowTruncatedTail an incomplete last record (a writer
 * that is mid-append or crashed mid-record) is silently dropped.
 */
export function readEvents(file: string, opts: DecodeTfRecordsOptions = {}): DecodedEvent[] {
  const bytes = fs.readFileSync(file);
  return decodeTfRecords(bytes, file, opts).map((r, i) => decodeEvent(r, file, i));
}

function encodeEvent(e: object): Uint8Array {
  return EventType.encode(EventType.fromObject(e)).finish();
}

/**
 * Appends TensorBoard events to `logdir/events.out.tfevents.<unix seconds>.<hostname>`.
 * Every add* call writes its complete record to the file before returning
 * (so a process crash loses nothing already logged); flush() additionally
 * fsyncs, protecting against OS crashes / power loss.
 */
export class EventWriter {
  /** Full path of the event file being written. */
  readonly path: string;
  private fd: number | undefined;

  constructor(logdir: string) {
    fs.mkdirSync(logdir, { recursive: true });
    const base = path.join(logdir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`);
    // Two writers in the same second (e.g. tests, restarts) must not share a
    // file: open exclusively and disambiguate with pid/counter on collision.
    // The extra suffix keeps "tfevents" in the name, which is all TensorBoard matches on.
    let candidate = base;
    for (let attempt = 1; ; attempt++) {
      try {
        this.fd = fs.openSync(candidate, 'wx');
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw err;
        candidate = `${base}.${process.pid}.${attempt}`;
      }
    }
    this.path = candidate;
    this.writeEvent({ wall_time: Date.now() / 1000, step: 0, file_version: 'brain.Event:2' });
  }

  /** Logs one scalar; TensorBoard stores simple_value as float32. wallTime is in seconds. */
  addScalar(tag: string, value: number, step: number, wallTime: number = Date.now() / 1000): void {
    this.writeEvent({
      wall_time: wallTime,
      step,
      summary: { value: [{ tag, simple_value: value }] },
    });
  }

  /** Logs a model graph (shown in TensorBoard's Graphs tab). */
  addGraph(graphDef: GraphDefInput, wallTime: number = Date.now() / 1000): void {
    this.writeEvent({ wall_time: wallTime, step: 0, graph_def: encodeGraphDef(graphDef) });
  }

  /** Makes everything written so far durable on disk (fsync). */
  flush(): void {
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
  }

  /** Flushes and closes the file; further adds throw. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private writeEvent(event: object): void {
    if (this.fd === undefined) throw new Error(`EventWriter for ${this.path} is closed`);
    const record = encodeTfRecord(encodeEvent(event));
    let off = 0;
    while (off < record.byteLength) off += fs.writeSync(this.fd, record, off, record.byteLength - off);
  }
}

/**
 * safetensors (https://github.com/huggingface/safetensors) codec, browser-safe (no Node imports).
 *
 * Layout: 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
 * (`{"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}`,
 * offsets relative to the start of the data section), then the data section,
 * which the tensors must tile exactly (contiguous, no gaps, no overlap).
 * All tensor data is little-endian, row-major.
 */

/** A malformed file: `file` names it, the message says what is wrong. */
export class SafetensorsFormatError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'SafetensorsFormatError';
  }
}

/** Element types; F16/BF16 carry raw 16-bit patterns in a Uint16Array, BOOL one byte per element. */
export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

export type SafetensorsData =
  | Float64Array | Float32Array | BigInt64Array | BigUint64Array
  | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` map; `{}` when the file has none. */
  metadata: Record<string, string>;
}

type TypedArrayCtor = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): SafetensorsData;
  readonly BYTES_PER_ELEMENT: number;
};

const DTYPES: Record<SafetensorsDType, { size: number; ctor: TypedArrayCtor }> = {
  F64: { size: 8, ctor: Float64Array },
  F32: { size: 4, ctor: Float32Array },
  F16: { size: 2, ctor: Uint16Array },
  BF16: { size: 2, ctor: Uint16Array },
  I64: { size: 8, ctor: BigInt64Array },
  U64: { size: 8, ctor: BigUint64Array },
  I32: { size: 4, ctor: Int32Array },
  U32: { size: 4, ctor: Uint32Array },
  I16: { size: 2, ctor: Int16Array },
  U16: { size: 2, ctor: Uint16Array },
  I8: { size: 1, ctor: Int8Array },
  U8: { size: 1, ctor: Uint8Array },
  BOOL: { size: 1, ctor: Uint8Array },
};

const METADATA_KEY = '__metadata__';
/** Same cap as the reference Rust implementation; guards against absurd allocations. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

function assertLittleEndianHost(): void {
  // Typed-array views use host byte order; the format is little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors: big-endian hosts are not supported');
}

/** Product of dims, or -1 if it is not a safe integer (so callers can report it). */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return -1;
  }
  return n;
}

/** Defines an own enumerable property, so names like "__proto__" are stored, not interpreted. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}


/** The reference implementation's dtype order (its writer puts later dtypes first). */
const DTYPE_ORDER: readonly SafetensorsDType[] = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/** Serialises tensors (sorted by name) and optional metadata into safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  assertLittleEndianHost();
  // The reference writer's order: by dtype, larger (more aligned) first, then by name.
  const rank = (name: string) => DTYPE_ORDER.indexOf(tensors[name]!.dtype);
  const names = Object.keys(tensors).sort((a, b) => rank(b) - rank(a) || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors metadata value for "${k}" must be a string`);
      setOwn(meta, k, v);
    }
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    if (name === METADATA_KEY) throw new TypeError(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    const t = tensors[name]!;
    if (!isDType(t.dtype)) throw new TypeError(`safetensors: tensor "${name}" has unknown dtype ${String(t.dtype)}`);
    const { size, ctor } = DTYPES[t.dtype];
    if (!(t.data instanceof ctor)) {
      throw new TypeError(`safetensors: tensor "${name}" has dtype ${t.dtype} but data is ${t.data?.constructor?.name}, expected ${ctor.name}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`safetensors: tensor "${name}" has invalid shape [${t.shape.join(', ')}]`);
    }
    const n = elementCount(t.shape);
    if (n !== t.data.length) {
      throw new TypeError(`safetensors: tensor "${name}" shape [${t.shape.join(', ')}] needs ${n} elements, data has ${t.data.length}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, n * size);
    setOwn(header, name, { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const text = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  const json = new TextEncoder().encode(text + ' '.repeat((8 - (new TextEncoder().encode(text).byteLength % 8)) % 8));

  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes and strictly validates safetensors bytes. Any structural problem throws a
 * SafetensorsFormatError naming `label` (a file name; default "<bytes>").
 */
export function decodeSafetensors(bytes: Uint8Array, label = '<bytes>'): SafetensorsFile {
  assertLittleEndianHost();
  const file = label;
  const fail = (detail: string): never => {
    throw new SafetensorsFormatError(file, `invalid safetensors: ${detail}`);
  };

  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.byteLength - 8)) {
    fail(`header length ${headerLen64} exceeds the ${bytes.byteLength - 8} bytes after the length field`);
  }
  if (headerLen64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(headerLen64);
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') fail('header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isPlainObject(header)) fail('header JSON is not an object');
  const top = header as Record<string, unknown>;

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }> = [];

  for (const name of Object.keys(top)) {
    const value = top[name];
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) fail(`"${METADATA_KEY}" is not an object`);
      for (const k of Object.keys(value as object)) {
        const v = (value as Record<string, unknown>)[k];
        if (typeof v !== 'string') fail(`metadata value for ${JSON.stringify(k)} is not a string`);
        setOwn(metadata, k, v as string);
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(value)) fail(`${where}: entry is not an object`);
    const entry = value as Record<string, unknown>;
    const keys = Object.keys(entry).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') fail(`${where}: expected keys dtype, shape, data_offsets; got ${keys || 'none'}`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDType(dtype)) fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where}: shape must be an array of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`${where}: data_offsets must be [begin, end] non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataLen) fail(`${where}: data_offsets end ${end} is past the ${dataLen}-byte data section`);
    const n = elementCount(shape as number[]);
    const size = DTYPES[dtype as SafetensorsDType].size;
    if (n < 0 || n * size !== end - begin) {
      fail(`${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${n < 0 ? 'too many' : n * size} bytes, data_offsets span ${end - begin}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], begin, end });
  }

  // The tensors must tile the data section exactly: sorted by offset, each
  // begins where the previous ended, and the last ends at the end of the file.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of byOffset) {
    if (e.begin < expected) fail(`tensor ${JSON.stringify(e.name)} overlaps the previous tensor (begins at ${e.begin}, previous ends at ${expected})`);
    if (e.begin > expected) fail(`gap in data section before tensor ${JSON.stringify(e.name)} (bytes ${expected}..${e.begin} unused)`);
    expected = e.end;
  }
  if (expected !== dataLen) fail(`data section is ${dataLen} bytes but tensors cover only ${expected}`);

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries) {
    const { ctor, size } = DTYPES[e.dtype];
    // Copy so the result is aligned and independent of the input buffer.
    // (Not bytes.slice: on a Buffer that returns a possibly unaligned view.)
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    const data = new ctor(copy.buffer, 0, copy.byteLength / size);
    setOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

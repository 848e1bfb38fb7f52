import { Tensor } from '../tensor.js';
import { encodeSafetensors, decodeSafetensors, type SafetensorsTensor } from './safetensors-codec.js';

export * from './safetensors-codec.js';

/** A loaded tensor, ready for `Module.loadStateDict` (a `StateValue`): f32 or int32 host data. */
export interface LoadedTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * safetensors bytes of a state dict (`module.stateDict()`, or any name → tensor record): f32
 * tensors as F32, int32 as I32, readable by Python's `safetensors` and `torch` (`load_file`).
 * Reads the tensors back from the GPU, hence async.
 */
export async function saveSafetensors(stateDict: Record<string, Tensor> | Map<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors: '${name}' is not a tensor`);
    const data = await t.data();
    Object.defineProperty(tensors, name, { value: { dtype: t.dtype === 'i32' ? 'I32' : 'F32', shape: [...t.shape], data }, enumerable: true });
  }
  return encodeSafetensors(tensors, metadata);
}

/** float32 of an IEEE half (bits) or bfloat16 (bits), for loading 16-bit checkpoints into f32 tensors. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function toLoaded(name: string, t: SafetensorsTensor): LoadedTensor {
  const shape = t.shape;
  switch (t.dtype) {
    case 'F32': return { dtype: 'F32', shape, data: t.data as Float32Array };
    case 'I32': return { dtype: 'I32', shape, data: t.data as Int32Array };
    case 'F64': return { dtype: 'F32', shape, data: Float32Array.from(t.data as Float64Array) };
    case 'F16': return { dtype: 'F32', shape, data: Float32Array.from(t.data as Uint16Array, halfToFloat) };
    case 'BF16': {
      const bits = Uint32Array.from(t.data as Uint16Array, (b) => b << 16);
      return { dtype: 'F32', shape, data: new Float32Array(bits.buffer) };
    }
    default: {
      // integer types (e.g. PyTorch's int64 num_batches_tracked): int32 when every value fits
      const values = Array.from(t.data as ArrayLike<number | bigint>, Number);
      const bad = values.find((v) => !(v >= -(2 ** 31) && v < 2 ** 31));
      if (bad !== undefined) throw new RangeError(`loadSafetensors: '${name}' (${t.dtype}) holds ${bad}, outside int32`);
      return { dtype: 'I32', shape, data: Int32Array.from(values) };
    }
  }
}

/**
 * The tensors of safetensors bytes as a state dict for `Module.loadStateDict`: floating types as
 * f32 (F64, F16 and BF16 converted), integer types as int32 (range-checked). `label` names the
 * source in errors. The file's metadata is in `decodeSafetensors(bytes).metadata`.
 */
export function loadSafetensors(bytes: Uint8Array, label?: string): Record<string, LoadedTensor> {
  const { tensors } = decodeSafetensors(bytes, label);
  const out: Record<string, LoadedTensor> = {};
  for (const [name, t] of Object.entries(tensors)) Object.defineProperty(out, name, { value: toLoaded(name, t), enumerable: true });
  return out;
}

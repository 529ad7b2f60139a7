/**
 * The safetensors element types and their conversion to the two types the project computes in
 * (F32 and I32). Multi-byte reads go through DataView with explicit little-endianness, so decoding
 * does not depend on the host's byte order.
 */
import { mismatch } from '../errors.js';

export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'F8_E4M3' | 'F8_E5M2' | 'I32' | 'I64' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I32: 4,
  I64: 8,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

/** IEEE 754 binary16 → number (Node 20 has no Float16Array). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** float8 e4m3fn (PyTorch's float8_e4m3fn): bias 7, no infinities, NaN only at S.1111.111. */
function e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exponent = (b >> 3) & 0xf;
  const fraction = b & 0x7;
  if (exponent === 0) return sign * fraction * 2 ** -9;
  if (exponent === 0xf && fraction === 0x7) return NaN;
  return sign * (1 + fraction / 8) * 2 ** (exponent - 7);
}

/**
 * Converts `count` elements of `dtype` starting at `view`'s offset 0 into F32 or I32.
 * `what` names the tensor in error messages (I64 overflow, BOOL bytes other than 0/1).
 */
export function convertToComputeType(
  dtype: Exclude<DType, 'F32' | 'I32'>,
  view: DataView,
  count: number,
  what: string,
): Float32Array | Int32Array {
  switch (dtype) {
    case 'F16':
    case 'BF16':
    case 'F64':
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer); // bfloat16 is the top half of a float32
      for (let i = 0; i < count; i++) {
        if (dtype === 'F64') out[i] = view.getFloat64(i * 8, true);
        else if (dtype === 'F8_E5M2') out[i] = halfToFloat(view.getUint8(i) << 8); // e5m2 is the top byte of a float16
        else if (dtype === 'F8_E4M3') out[i] = e4m3ToFloat(view.getUint8(i));
        else if (dtype === 'F16') out[i] = halfToFloat(view.getUint16(i * 2, true));
        else bits[i] = view.getUint16(i * 2, true) << 16;
      }
      return out;
    }
    case 'I64':
    case 'U64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dtype === 'I64' ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw mismatch(`${what} element ${i}`, `an ${dtype} value that fits in int32`, String(v));
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'U32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getUint32(i * 4, true);
        if (v > 2147483647) throw mismatch(`${what} element ${i}`, 'a U32 value that fits in int32', String(v));
        out[i] = v;
      }
      return out;
    }
    case 'I16':
    case 'U16':
    case 'I8':
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        if (dtype === 'I16') out[i] = view.getInt16(i * 2, true);
        else if (dtype === 'U16') out[i] = view.getUint16(i * 2, true);
        else if (dtype === 'I8') out[i] = view.getInt8(i);
        else out[i] = view.getUint8(i);
        if (dtype === 'BOOL' && out[i] > 1) {
          throw mismatch(`${what} element ${i}`, 'a BOOL byte of 0 or 1', String(out[i]));
        }
      }
      return out;
    }
  }
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The float types a checkpoint may be written in. */
export type StoredFloat = 'F32' | 'BF16' | 'F16';

/** float32 → IEEE binary16 bits, round to nearest even (overflow → ±Inf, NaN kept). */
function floatToHalf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let v = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && v & 1)) v++;
    return sign | v;
  }
  let v = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && v & 1)) v++; // a carry into the exponent is still correct
  return sign | v;
}

/**
 * Float32 values as the bytes of `dtype` (little-endian): F32 as they are, BF16 and F16 rounded to
 * nearest even, NaN kept NaN. A bfloat16 source read as float32 and written back as BF16 is unchanged.
 */
export function encodeFloats(data: Float32Array, dtype: StoredFloat): Uint8Array {
  if (!HOST_LITTLE_ENDIAN) throw new Error('encodeFloats needs a little-endian host');
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  if (dtype === 'BF16') {
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x40; // NaN stays NaN (quiet)
      else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = floatToHalf(bits[i]);
  }
  return new Uint8Array(out.buffer);
}

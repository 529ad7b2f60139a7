/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON describing each tensor, then the tensor bytes.
 * The decoder validates as strictly as the reference implementation, because a checkpoint that
 * loads with silently wrong shapes or offsets is worse than one that fails to load.
 */
import { mismatch } from '../errors.js';
import { DTYPE_SIZE, convertToComputeType, isDType, type DType } from './dtypes.js';
import { decodeUtf8, describeJson, isPlainObject, parseJsonObject } from './read.js';
import { checkStrictJson } from './strict-json.js';

export type { DType } from './dtypes.js';

export interface RawTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface DecodedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
/** The reference reader refuses headers over 100 MB (a guard against absurd allocations). */
export const MAX_HEADER_BYTES = 100_000_000;

// Typed-array views use host byte order; the zero-copy path is only valid on little-endian hosts.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Rust's `str` ordering: by UTF-8 bytes (differs from JS's UTF-16 order beyond the BMP). */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

// TextEncoder, not Buffer: this file is part of core's browser-safe main entry.
const utf8 = new TextEncoder();

// The reference writer orders tensors by dtype (descending in its enum: F32 > I32 > BF16 > F16), then
// name; matching it makes our files byte-identical to Hugging Face's for the same tensors.
const DTYPE_RANK: Record<string, number> = { F32: 0, I32: 1, BF16: 2, F16: 3 };

function checkTensorForEncoding(name: string, t: RawTensor): void {
  const what = `tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY) throw mismatch('tensor name', `anything but "${METADATA_KEY}"`, name);
  const expectedArray = t.dtype === 'F32' ? Float32Array : t.dtype === 'I32' ? Int32Array : undefined;
  if (!expectedArray) throw mismatch(`${what} dtype`, 'F32 or I32', String(t.dtype));
  if (!(t.data instanceof expectedArray)) {
    throw mismatch(`${what} data`, expectedArray.name, t.data?.constructor?.name ?? typeof t.data);
  }
  if (!isShape(t.shape)) throw mismatch(`${what} shape`, 'an array of non-negative integers', JSON.stringify(t.shape));
  if (product(t.shape) !== t.data.length) {
    throw mismatch(`${what} data length`, `${product(t.shape)} (shape [${t.shape}])`, String(t.data.length));
  }
}

/** One tensor of a safetensors file to be written: its bytes come later, in the header's order. */
export interface HeaderEntry {
  name: string;
  dtype: 'F32' | 'I32' | 'BF16' | 'F16';
  shape: number[];
}

/**
 * The header of a safetensors file holding `entries` (8-byte length + JSON padded with spaces so the data
 * starts 8-byte aligned, as the reference writes it), the entries in the reference writer's order, and
 * each entry's byte offset in the data buffer.
 */
export function safetensorsHeader(
  entries: readonly HeaderEntry[],
  metadata?: Record<string, string>,
): { header: Uint8Array; order: HeaderEntry[]; offsets: Map<string, number>; dataBytes: number } {
  const order = [...entries].sort((a, b) => DTYPE_RANK[a.dtype] - DTYPE_RANK[b.dtype] || compareUtf8(a.name, b.name));
  // The JSON is assembled by hand because JS objects put integer-like keys ("0") first.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw mismatch(`metadata ${JSON.stringify(key)}`, 'a string', describeJson(value));
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const e of order) {
    if (e.name === METADATA_KEY) throw mismatch('tensor name', `anything but "${METADATA_KEY}"`, e.name);
    if (offsets.has(e.name)) throw mismatch('tensor names', 'each name once', `${JSON.stringify(e.name)} twice`);
    const bytes = product(e.shape) * DTYPE_SIZE[e.dtype];
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes] })}`);
    offsets.set(e.name, offset);
    offset += bytes;
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const header = new Uint8Array(8 + headerLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerLength), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.length);
  return { header, order, offsets, dataBytes: offset };
}

/** Serialises tensors (and optional string metadata) to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  for (const [name, t] of Object.entries(tensors)) checkTensorForEncoding(name, t);
  const { header, order, dataBytes } = safetensorsHeader(
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata,
  );
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let position = header.length;
  for (const { name } of order) {
    const data = tensors[name].data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** One tensor's header entry; begin/end are byte offsets into the data buffer after the header. */
export interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(source: string, name: string, info: unknown, bufferLength: number): Entry {
  const what = `${source}: tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(info)) throw mismatch(what, 'an object with dtype, shape, data_offsets', describeJson(info));
  const { dtype, shape, data_offsets: offsets } = info;
  if (!isDType(dtype)) {
    throw mismatch(`${what} dtype`, `one of ${Object.keys(DTYPE_SIZE).join(', ')}`, describeJson(dtype));
  }
  if (!isShape(shape)) throw mismatch(`${what} shape`, 'an array of non-negative integers', JSON.stringify(shape));
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw mismatch(`${what} data_offsets`, '[begin, end] with 0 <= begin <= end', JSON.stringify(offsets));
  }
  const [begin, end] = offsets as [number, number];
  const expectedBytes = product(shape) * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expectedBytes)) throw mismatch(`${what} shape`, 'a size that fits in memory', `[${shape}]`);
  if (end - begin !== expectedBytes) {
    throw mismatch(`${what} byte length`, `${expectedBytes} (${dtype} [${shape}])`, `${end - begin} (data_offsets [${begin},${end}])`);
  }
  if (end > bufferLength) {
    throw mismatch(`${what} data_offsets`, `within the ${bufferLength}-byte data buffer`, `[${begin},${end}]`);
  }
  return { name, dtype, shape, begin, end };
}

/** The tensors must tile the data buffer exactly, in offset order, with no gap or overlap. */
function checkCoverage(source: string, entries: Entry[], bufferLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) {
      const problem = e.begin < expected ? 'overlapping the previous tensor' : `leaving a gap of ${e.begin - expected} bytes`;
      throw mismatch(`${source}: tensor ${JSON.stringify(e.name)} data_offsets`, `to begin at byte ${expected}`, `[${e.begin},${e.end}], ${problem}`);
    }
    expected = e.end;
  }
  if (expected !== bufferLength) {
    throw mismatch(`${source}: tensor data`, `${expected} bytes (the end of the last tensor)`, `${bufferLength} bytes after the header`);
  }
}

function parseMetadata(source: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {}; // the reference reads null as no metadata
  if (!isPlainObject(value)) throw mismatch(`${source}: ${METADATA_KEY}`, 'an object of strings', describeJson(value));
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw mismatch(`${source}: ${METADATA_KEY} ${JSON.stringify(key)}`, 'a string', describeJson(v));
  }
  return value as Record<string, string>;
}

/** Decodes one tensor whose bytes start at `bytes[start]` (F32/I32 aligned: a view, no copy). */
export function tensorFromBytes(bytes: Uint8Array, start: number, e: Entry, what: string): RawTensor {
  const count = product(e.shape);
  const absolute = bytes.byteOffset + start;
  if (e.dtype === 'F32' || e.dtype === 'I32') {
    const ArrayType = e.dtype === 'F32' ? Float32Array : Int32Array;
    // Zero-copy view when aligned (it shares the file's buffer); otherwise copy into an aligned one.
    // The cast only narrows the type: typed arrays accept shared buffers too.
    if (absolute % 4 === 0) return { dtype: e.dtype, shape: e.shape, data: new ArrayType(bytes.buffer as ArrayBuffer, absolute, count) };
    const data = new ArrayType(count);
    new Uint8Array(data.buffer).set(bytes.subarray(start, start + count * 4));
    return { dtype: e.dtype, shape: e.shape, data };
  }
  const data = convertToComputeType(e.dtype, new DataView(bytes.buffer, absolute, e.end - e.begin), count, what);
  return { dtype: data instanceof Float32Array ? 'F32' : 'I32', shape: e.shape, data };
}

export interface SafetensorsHeader {
  entries: Entry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file. */
  dataStart: number;
}

/** The header length from the first 8 bytes of a file of `fileLength` bytes, checked. */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number, source: string): number {
  if (fileLength < 8 || first8.length < 8) throw mismatch(`${source}: safetensors file`, 'at least 8 bytes (the header length)', `${fileLength} bytes`);
  const headerLength = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw mismatch(`${source}: safetensors header length`, `at most ${MAX_HEADER_BYTES} bytes`, `${headerLength}`);
  }
  if (headerLength > BigInt(fileLength - 8)) {
    throw mismatch(`${source}: safetensors header length`, `at most the ${fileLength - 8} bytes after it`, `${headerLength}`);
  }
  return Number(headerLength);
}

/**
 * Parses and checks the header of a safetensors file of `fileLength` bytes; `head` holds (at least) its
 * first 8 + header-length bytes, so a streaming reader need not read the tensors to list them.
 */
export function decodeSafetensorsHeader(head: Uint8Array, fileLength: number, source: string): SafetensorsHeader {
  const dataStart = 8 + safetensorsHeaderLength(head, fileLength, source);
  const text = decodeUtf8(head.subarray(8, dataStart), `${source}: safetensors header`, 'JSON');
  const header = parseJsonObject(text, `${source}: safetensors header`);
  if (text[0] !== '{') throw mismatch(`${source}: safetensors header`, 'JSON starting with "{"', JSON.stringify(text.slice(0, 8)));
  const bufferLength = fileLength - dataStart;

  const metadata = parseMetadata(source, header[METADATA_KEY]);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, info]) => parseEntry(source, name, info, bufferLength));
  checkStrictJson(text, `${source}: safetensors header`);
  checkCoverage(source, entries, bufferLength);
  return { entries, metadata, dataStart };
}

/**
 * Parses safetensors bytes, converting F16/BF16/F64 to F32 and I64/I16/I8/U8/BOOL to I32.
 * `source` (usually the file path) is named in every error.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): DecodedSafetensors {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('safetensors decoding needs a little-endian host');
  const { entries, metadata, dataStart } = decodeSafetensorsHeader(bytes, bytes.length, source);
  // fromEntries defines own properties, so a tensor named "__proto__" stays a tensor.
  const tensors = Object.fromEntries(
    entries.map((e) => [e.name, tensorFromBytes(bytes, dataStart + e.begin, e, `${source}: tensor ${JSON.stringify(e.name)}`)]),
  );
  return { tensors, metadata };
}

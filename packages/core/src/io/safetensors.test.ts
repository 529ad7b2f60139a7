import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type RawTensor } from './safetensors.js';
import { readSafetensors, writeSafetensors } from './safetensors-fs.js';

// Shared data lives in ../shared beside the repository root (CI clones it there too).
const LLAMA_TINY = fileURLToPath(new URL('../../../../../shared/data/hf-reference/llama-tiny/', import.meta.url));

/** Builds a file from an arbitrary header (object or raw text) and data buffer, bypassing our encoder. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(values: number[], write: (view: DataView, i: number, v: number) => void, size: number): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => write(view, i * size, v));
  return out;
}

function expectUserError(bytes: Uint8Array, pattern: RegExp): void {
  let error: unknown;
  try {
    decodeSafetensors(bytes, 'bad.safetensors');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(UserError);
  const message = (error as Error).message;
  expect(message).toMatch(/^bad\.safetensors: /);
  expect(message).toMatch(/expected .*, found /);
  expect(message).not.toContain('\n');
  expect(message).toMatch(pattern);
}

describe('safetensors files written by Hugging Face', () => {
  it('decodes the llama-tiny checkpoint with the values Python reads', () => {
    const { tensors, metadata } = readSafetensors(path.join(LLAMA_TINY, 'model.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors)).toHaveLength(21);
    const lmHead = tensors['lm_head.weight'];
    expect(lmHead.dtype).toBe('F32');
    expect(lmHead.shape).toEqual([256, 64]);
    expect(lmHead.data[0]).toBeCloseTo(-0.11788783222436905, 7);
    expect(lmHead.data[2]).toBeCloseTo(-0.21937333047389984, 7);
    expect(lmHead.data[lmHead.data.length - 1]).toBeCloseTo(0.069475919008255, 7);
    expect(tensors['model.layers.0.self_attn.k_proj.weight'].shape).toEqual([32, 64]);
    const norm = tensors['model.norm.weight'];
    expect(norm.shape).toEqual([64]);
    expect(Array.from(norm.data).reduce((a, b) => a + b, 0)).toBeCloseTo(62.14556837081909, 4);
  });

  it('decodes the reference activations (F32 and I32)', () => {
    const { tensors, metadata } = readSafetensors(path.join(LLAMA_TINY, 'reference.safetensors'));
    expect(metadata).toEqual({});
    expect(tensors.input_ids.dtype).toBe('I32');
    expect(tensors.input_ids.shape).toEqual([2, 24]);
    expect(Array.from(tensors.input_ids.data.slice(0, 4))).toEqual([168, 15, 237, 72]);
    expect(tensors.input_ids.data[47]).toBe(194);
    expect(tensors.logits.shape).toEqual([2, 24, 256]);
    expect(tensors.logits.data[0]).toBeCloseTo(-2.5988423824310303, 6);
  });

  it.each(['model.safetensors', 'reference.safetensors'])('re-encodes %s byte-for-byte', (name) => {
    const original = fs.readFileSync(path.join(LLAMA_TINY, name));
    const { tensors, metadata } = decodeSafetensors(original, name);
    expect(Buffer.from(encodeSafetensors(tensors, metadata)).equals(original)).toBe(true);
  });
});

const tensorArb: fc.Arbitrary<RawTensor> = fc
  .tuple(fc.constantFrom<'F32' | 'I32'>('F32', 'I32'), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data: fc.Arbitrary<Float32Array | Int32Array> =
      dtype === 'F32' ? fc.float32Array({ minLength: n, maxLength: n }) : fc.int32Array({ minLength: n, maxLength: n });
    return data.map((d) => ({ dtype, shape, data: d }));
  });

const namesArb = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s !== '__metadata__');

describe('encode/decode round trip', () => {
  it('preserves names, dtypes, shapes (including 0-size dims), values and metadata', () => {
    fc.assert(
      fc.property(
        fc.dictionary(namesArb, tensorArb, { maxKeys: 6 }),
        fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), { maxKeys: 3 }),
        fc.integer({ min: 0, max: 7 }),
        (tensors, metadata, misalign) => {
          const bytes = encodeSafetensors(tensors, metadata);
          // Format: u64 LE header length, header JSON (space-padded), data starting 8-byte aligned.
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect((8 + n) % 8).toBe(0);
          const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
          expect(Object.keys(header).filter((k) => k !== '__metadata__').sort()).toEqual(Object.keys(tensors).sort());
          // Decode from a misaligned copy too, exercising the copy path.
          const shifted = new Uint8Array(bytes.length + misalign).subarray(misalign);
          shifted.set(bytes);
          for (const input of [bytes, shifted]) {
            const decoded = decodeSafetensors(input, 'roundtrip');
            expect(decoded.metadata).toEqual(metadata);
            expect(decoded.tensors).toEqual(tensors);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes and reads a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-'));
    const file = path.join(dir, 'x.safetensors');
    const tensors: Record<string, RawTensor> = {
      b: { dtype: 'I32', shape: [2], data: new Int32Array([7, -7]) },
      a: { dtype: 'F32', shape: [1, 2], data: new Float32Array([0.5, -1]) },
    };
    writeSafetensors(file, tensors, { format: 'pt' });
    expect(readSafetensors(file)).toEqual({ tensors, metadata: { format: 'pt' } });
    expect(fs.readdirSync(dir)).toEqual(['x.safetensors']);
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects tensors whose data does not match their shape or dtype', () => {
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(UserError);
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Int32Array(2) } })).toThrow(/Float32Array/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: new Float32Array(1) } })).toThrow(UserError);
  });
});

describe('dtype conversion', () => {
  const cases: Array<[string, number, (v: DataView, i: number, x: number) => void, number[], number[]]> = [
    ['F16', 2, (v, i, x) => v.setUint16(i, x, true), [0x3c00, 0xc000, 0x7c00, 0x0001, 0x7bff, 0x8000], [1, -2, Infinity, 2 ** -24, 65504, -0]],
    ['BF16', 2, (v, i, x) => v.setUint16(i, x, true), [0x3f80, 0xc040, 0x0000], [1, -3, 0]],
    ['F64', 8, (v, i, x) => v.setFloat64(i, x, true), [0.1, -1e300], [Math.fround(0.1), -Infinity]],
    ['I64', 8, (v, i, x) => v.setBigInt64(i, BigInt(x), true), [-5, 2147483647, -2147483648], [-5, 2147483647, -2147483648]],
    ['I16', 2, (v, i, x) => v.setInt16(i, x, true), [-32768, 32767], [-32768, 32767]],
    ['I8', 1, (v, i, x) => v.setInt8(i, x), [-128, 127], [-128, 127]],
    ['U8', 1, (v, i, x) => v.setUint8(i, x), [0, 255], [0, 255]],
    ['BOOL', 1, (v, i, x) => v.setUint8(i, x), [0, 1], [0, 1]],
  ];
  it.each(cases)('converts %s', (dtype, size, write, stored, expected) => {
    const data = bytesOf(stored, write, size);
    const bytes = rawFile({ t: { dtype, shape: [stored.length], data_offsets: [0, data.length] } }, data);
    const t = decodeSafetensors(bytes, 'conv').tensors.t;
    expect(t.dtype).toBe(dtype.startsWith('F') || dtype === 'BF16' ? 'F32' : 'I32');
    expect(Array.from(t.data)).toEqual(expected);
  });

  it('rejects I64 values outside int32 and BOOL bytes other than 0/1', () => {
    const i64 = bytesOf([0, 2 ** 31], (v, i, x) => v.setBigInt64(i, BigInt(x), true), 8);
    expectUserError(rawFile({ t: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64), /fits in int32.*2147483648/);
    expectUserError(rawFile({ t: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, new Uint8Array([2])), /BOOL byte/);
  });
});

describe('strict validation', () => {
  const ok = (extra: Record<string, unknown> = {}) => ({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ...extra });
  const data8 = new Uint8Array(8);

  it('accepts the well-formed baseline used below', () => {
    expect(decodeSafetensors(rawFile(ok(), data8), 'bad.safetensors').tensors.t.shape).toEqual([2]);
  });
  it('file shorter than 8 bytes', () => expectUserError(new Uint8Array(5), /at least 8 bytes.*found 5 bytes/));
  it('header length past the end of the file', () => {
    const bytes = rawFile(ok(), data8);
    new DataView(bytes.buffer).setBigUint64(0, 1n << 60n, true);
    expectUserError(bytes, /header length/);
  });
  it('header that is not JSON', () => expectUserError(rawFile('{"t": '), /valid JSON/));
  it('header that is not UTF-8', () => expectUserError(rawFile('{}').map((b, i) => (i === 8 ? 0xff : b)), /UTF-8/));
  it('header that is not an object', () => expectUserError(rawFile([1, 2]), /a JSON object, found an array/));
  it('tensor entry that is not an object', () => expectUserError(rawFile({ t: 3 }), /an object with dtype/));
  it('unknown dtype', () => expectUserError(rawFile({ t: { dtype: 'Q4', shape: [], data_offsets: [0, 0] } }), /dtype: expected one of F32.*found string "Q4"/));
  it.each([[[-1]], [[1.5]], ['2'], [undefined]])('shape %j', (shape) =>
    expectUserError(rawFile({ t: { dtype: 'F32', shape, data_offsets: [0, 0] } }), /shape: expected an array of non-negative integers/));
  it.each([[[8, 0]], [[0]], [[0, '8']], [[-1, 8]], [undefined]])('data_offsets %j', (offsets) =>
    expectUserError(rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: offsets } }, data8), /data_offsets: expected \[begin, end\]/));
  it('byte length that does not match shape × dtype size', () =>
    expectUserError(rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), /byte length: expected 12 .*found 8/));
  it('offsets past the end of the buffer', () =>
    expectUserError(rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8), /within the 8-byte data buffer/));
  it('overlapping tensors', () =>
    expectUserError(rawFile(ok({ u: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), data8), /overlapping/));
  it('a hole between tensors', () =>
    expectUserError(
      rawFile({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, u: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
      /gap of 4 bytes/,
    ));
  it('trailing bytes no tensor covers', () => expectUserError(rawFile(ok(), new Uint8Array(12)), /8 bytes .*found 12 bytes after the header/));
  it('non-string metadata values', () => expectUserError(rawFile(ok({ __metadata__: { step: 3 } }), data8), /"step": expected a string, found number 3/));
  it('metadata that is not an object', () => expectUserError(rawFile(ok({ __metadata__: 'pt' }), data8), /__metadata__: expected an object/));
  it('header over the reference limit of 100 MB', () => {
    const bytes = rawFile(ok(), data8);
    new DataView(bytes.buffer).setBigUint64(0, 100_000_001n, true);
    expectUserError(bytes, /header length: expected at most 100000000 bytes/);
  });
  it('header not starting with "{"', () => expectUserError(rawFile(' ' + JSON.stringify(ok()), data8), /starting with "\{"/));
  it('a key given twice (JSON.parse would keep the last)', () =>
    expectUserError(rawFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data8), /each key once.*"t" twice/));
  it('a duplicate field inside an entry', () =>
    expectUserError(rawFile('{"t":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data8), /"dtype" twice/));
  it('integers written with a fraction or exponent', () => {
    expectUserError(rawFile('{"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', data8), /plain digits, found 2\.0/);
    expectUserError(rawFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}}', data8), /plain digits, found 8e0/);
  });
  it('swapped data_offsets', () => expectUserError(rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), /data_offsets/));
  it('a shape too large to address', () =>
    expectUserError(rawFile({ t: { dtype: 'F32', shape: [2 ** 40, 2 ** 20], data_offsets: [0, 8] } }, data8), /fits in memory/));
  it('accepts null metadata, digits inside names and strings, and the U16/U32/U64/F8 dtypes as the reference does', () => {
    const header = {
      __metadata__: null,
      'w.1.5e3': { dtype: 'U16', shape: [1], data_offsets: [0, 2] },
      u32: { dtype: 'U32', shape: [1], data_offsets: [2, 6] },
      u64: { dtype: 'U64', shape: [1], data_offsets: [6, 14] },
      e4: { dtype: 'F8_E4M3', shape: [2], data_offsets: [14, 16] },
      e5: { dtype: 'F8_E5M2', shape: [1], data_offsets: [16, 17] },
    };
    const data = new Uint8Array(17);
    const view = new DataView(data.buffer);
    view.setUint16(0, 65535, true);
    view.setUint32(2, 7, true);
    view.setBigUint64(6, 9n, true);
    data[14] = 0x38; // e4m3 1.0
    data[15] = 0x7f; // e4m3 NaN
    data[16] = 0x3c; // e5m2 1.0
    const t = decodeSafetensors(rawFile(header, data), 'ok.safetensors').tensors;
    expect(t['w.1.5e3'].data[0]).toBe(65535);
    expect([t.u32.data[0], t.u64.data[0], t.e4.data[0], t.e5.data[0]]).toEqual([7, 9, 1, 1]);
    expect(Number.isNaN(t.e4.data[1])).toBe(true);
  });
  it('U32 and U64 values beyond int32', () => {
    const data = new Uint8Array(4).fill(0xff);
    expectUserError(rawFile({ t: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, data), /U32 value that fits in int32/);
  });
  it('a missing file', () => expect(() => readSafetensors('/nonexistent/x.safetensors')).toThrow(/x\.safetensors: expected a safetensors file, found no such file/));
});

/**
 * Test helpers: Hugging Face checkpoint directories written by hand (F16/BF16 bit patterns encoded here,
 * not by the code under test), single-file or sharded with model.safetensors.index.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type DiskDType = 'F32' | 'F16' | 'BF16';

/** float32 → IEEE binary16 bits, for values that are exact in binary16 (normal range) or zero. */
export function halfBits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const exponent = Math.floor(Math.log2(a));
  const mantissa = a / 2 ** exponent - 1; // in [0, 1)
  const frac = Math.round(mantissa * 1024);
  if (exponent < -14 || exponent > 15 || Math.abs(mantissa * 1024 - frac) > 1e-9) throw new Error(`${x} is not exact in float16`);
  return sign | ((exponent + 15) << 10) | frac;
}

/** float32 → bfloat16 bits (the top half of the float32), for values exact in bfloat16. */
export function bf16Bits(x: number): number {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0];
  if ((bits & 0xffff) !== 0) throw new Error(`${x} is not exact in bfloat16`);
  return bits >>> 16;
}

export function encode(values: Float32Array, dtype: DiskDType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, dtype === 'F16' ? halfBits(v) : bf16Bits(v), true));
  return out;
}

export interface DiskTensor {
  dtype: DiskDType;
  shape: number[];
  data: Float32Array;
}

/** A safetensors file laid out as the format says (header JSON, space padding, data in name order). */
export function writeRawSafetensors(file: string, tensors: Record<string, DiskTensor>): void {
  const names = Object.keys(tensors).sort();
  const bodies = names.map((n) => encode(tensors[n].data, tensors[n].dtype));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  names.forEach((n, i) => {
    header[n] = { dtype: tensors[n].dtype, shape: tensors[n].shape, data_offsets: [offset, offset + bodies[i].length] };
    offset += bodies[i].length;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...bodies]));
}

/** Writes config.json and the weights, in `shards` files (1 = model.safetensors, more = an index). */
export function writeHfDir(dir: string, config: object, tensors: Record<string, DiskTensor>, shards = 1): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (shards === 1) return writeRawSafetensors(path.join(dir, 'model.safetensors'), tensors);
  const names = Object.keys(tensors);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const mine = names.filter((_, i) => i % shards === s);
    writeRawSafetensors(path.join(dir, file), Object.fromEntries(mine.map((n) => [n, tensors[n]])));
    for (const n of mine) weightMap[n] = file;
  }
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
}

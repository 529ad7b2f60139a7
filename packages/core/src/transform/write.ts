/**
 * Writes a checkpoint's weights tensor by tensor: the outputs are grouped into shards of at most
 * `shardBytes` in plan order, each shard's header (the reference writer's order) is written first, then
 * each tensor is computed, converted to its stored type and written at its offset, so only one tensor
 * (plus what its computation reads) is in memory at a time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DTYPE_SIZE, encodeFloats, type StoredFloat } from '../io/dtypes.js';
import { MODEL_FILE, MODEL_INDEX_FILE } from '../io/checkpoint.js';
import { safetensorsHeader } from '../io/safetensors.js';
import { elementsOf } from './plan.js';

export interface TensorToWrite {
  name: string;
  shape: number[];
  dtype: StoredFloat;
}

export interface WrittenWeights {
  /** File names written (one model.safetensors, or shards plus the index). */
  files: string[];
  tensors: number;
  /** Tensor bytes written. */
  bytes: number;
}

const sizeOf = (t: TensorToWrite) => elementsOf(t.shape) * DTYPE_SIZE[t.dtype];

/** Consecutive groups of at most `limit` bytes (a bigger tensor gets a shard alone). */
function shardGroups(tensors: TensorToWrite[], limit: number): TensorToWrite[][] {
  const shards: TensorToWrite[][] = [];
  let current: TensorToWrite[] = [];
  let size = 0;
  for (const t of tensors) {
    if (current.length > 0 && size + sizeOf(t) > limit) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += sizeOf(t);
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/**
 * One safetensors file of `tensors`, each computed by `compute` in the given order and written at its
 * offset; fsynced. Returns the tensor bytes written.
 */
export function writeSafetensorsStreamed(file: string, tensors: TensorToWrite[], compute: (t: TensorToWrite) => Float32Array, onTensor?: (t: TensorToWrite) => void): number {
  const { header, offsets, dataBytes } = safetensorsHeader(tensors, { format: 'pt' });
  const fd = fs.openSync(file, 'wx');
  try {
    writeAll(fd, header, 0);
    for (const t of tensors) {
      const data = compute(t);
      if (data.length !== elementsOf(t.shape)) throw new Error(`output "${t.name}": computed ${data.length} values for shape [${t.shape}]`);
      writeAll(fd, encodeFloats(data, t.dtype), header.length + offsets.get(t.name)!);
      onTensor?.(t);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return dataBytes;
}

/** The model weights into `dir` (which must exist): model.safetensors, or shards and their index. */
export function writeWeightsStreamed(dir: string, tensors: TensorToWrite[], compute: (t: TensorToWrite) => Float32Array, shardBytes: number, onTensor?: (t: TensorToWrite) => void): WrittenWeights {
  const shards = shardGroups(tensors, shardBytes);
  const names = shards.length === 1 ? [MODEL_FILE] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  let bytes = 0;
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, s) => {
    bytes += writeSafetensorsStreamed(path.join(dir, names[s]), shard, compute, onTensor);
    for (const t of shard) weightMap[t.name] = names[s];
  });
  const files = [...names];
  if (shards.length > 1) {
    fs.writeFileSync(path.join(dir, MODEL_INDEX_FILE), `${JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2)}\n`);
    files.push(MODEL_INDEX_FILE);
  }
  return { files, tensors: tensors.length, bytes };
}

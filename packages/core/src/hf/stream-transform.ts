/**
 * A tensor-by-tensor read → transform → write pipeline for checkpoints too big to hold in memory (mergekit's
 * approach): the caller lists every output tensor with its shape and a callback that computes it from source
 * tensors read on demand; tensors are written into safetensors shards as they are computed, so peak memory
 * stays near the largest tensor (plus what a callback keeps), whatever the model's size.
 * The output directory appears atomically: it is written beside `out` and renamed into place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch } from '../errors.js';
import { CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE } from '../io/checkpoint.js';
import type { RawTensor } from '../io/safetensors.js';
import { CheckpointTensors } from './checkpoint-tensors.js';
import { assertNewOutputDir } from '../io/output-path.js';
import { checkpointTokenizerFiles, type TokenizerSource } from './tokenizer-files.js';

export interface OutputTensor {
  name: string;
  shape: number[];
  /** Computes the tensor; `read` returns a source tensor as float32 (the last few reads are cached). */
  compute(read: (sourceName: string) => Float32Array): Float32Array;
}

export interface StreamOptions {
  /** Source checkpoint directory (single file or sharded). */
  source: string;
  /** New checkpoint directory; must not exist or be empty. */
  out: string;
  config: object;
  outputs: OutputTensor[];
  /** Largest shard, in bytes (default 2 GiB); a single shard is written as model.safetensors. */
  shardBytes?: number;
  /** The model's tokenizer, or the checkpoint directory whose tokenizer files to carry (usually `source`). */
  tokenizer: TokenizerSource;
  /** Other text files to write beside the weights. */
  extraFiles?: Record<string, string>;
  /** Called after each tensor is written (progress). */
  onTensor?: (done: number, total: number, name: string) => void;
}

export interface StreamResult {
  shards: string[];
  tensors: number;
  bytes: number;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Splits the outputs into consecutive shards of at most `limit` bytes (a bigger tensor gets a shard alone). */
function planShards(outputs: OutputTensor[], limit: number): OutputTensor[][] {
  const shards: OutputTensor[][] = [];
  let current: OutputTensor[] = [];
  let size = 0;
  for (const t of outputs) {
    const bytes = elements(t.shape) * 4;
    if (current.length > 0 && size + bytes > limit) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += bytes;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

function headerBytes(tensors: OutputTensor[]): Buffer {
  const entries = [`"__metadata__":${JSON.stringify({ format: 'pt' })}`];
  let offset = 0;
  for (const t of tensors) {
    const bytes = elements(t.shape) * 4;
    entries.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  const json = `{${entries.join(',')}}`;
  const padded = json + ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data 8-byte aligned, as the reference writes
  const out = Buffer.alloc(8 + Buffer.byteLength(padded));
  out.writeBigUInt64LE(BigInt(Buffer.byteLength(padded)), 0);
  out.write(padded, 8, 'utf8');
  return out;
}

/** A small cache of recently read source tensors, so a tensor used by several outputs is read once. */
function sourceReader(tensors: CheckpointTensors, keep = 3): (name: string) => Float32Array {
  const recent = new Map<string, Float32Array>();
  return (name) => {
    const hit = recent.get(name);
    if (hit) return hit;
    const raw: RawTensor = tensors.read(name);
    if (raw.dtype !== 'F32') throw mismatch(`${tensors.info(name).file}: tensor "${name}"`, 'a floating-point tensor', tensors.info(name).dtype);
    const data = raw.data as Float32Array;
    recent.set(name, data);
    if (recent.size > keep) recent.delete(recent.keys().next().value as string);
    return data;
  };
}

export function streamTransform(o: StreamOptions): StreamResult {
  assertNewOutputDir(o.out);
  const seen = new Set<string>();
  for (const t of o.outputs) {
    if (seen.has(t.name)) throw mismatch('output tensors', 'each name once', `"${t.name}" twice`);
    seen.add(t.name);
  }
  const shards = planShards(o.outputs, o.shardBytes ?? 2 ** 31);
  const names = shards.length === 1 ? [MODEL_FILE] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const staging = `${path.resolve(o.out)}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const source = CheckpointTensors.open(o.source);
  const read = sourceReader(source);
  let done = 0;
  let bytes = 0;
  try {
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, s) => {
      const fd = fs.openSync(path.join(staging, names[s]), 'w');
      try {
        fs.writeSync(fd, headerBytes(shard));
        for (const t of shard) {
          const data = t.compute(read);
          if (data.length !== elements(t.shape)) throw new Error(`output "${t.name}": computed ${data.length} elements for shape [${t.shape}]`);
          fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          bytes += data.byteLength;
          weightMap[t.name] = names[s];
          done++;
          o.onTensor?.(done, o.outputs.length, t.name);
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
    if (shards.length > 1) {
      fs.writeFileSync(path.join(staging, MODEL_INDEX_FILE), `${JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2)}\n`);
    }
    fs.writeFileSync(path.join(staging, CONFIG_FILE), `${JSON.stringify(o.config, null, 2)}\n`);
    const texts = { ...o.extraFiles, ...checkpointTokenizerFiles(o.tokenizer, o.config) };
    for (const [name, text] of Object.entries(texts)) fs.writeFileSync(path.join(staging, name), text);
    if (fs.existsSync(o.out)) fs.rmdirSync(o.out); // empty, checked above
    fs.renameSync(staging, o.out);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    source.close();
  }
  return { shards: names, tensors: done, bytes };
}

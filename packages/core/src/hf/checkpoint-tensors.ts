/**
 * The tensors of a Hugging Face checkpoint directory, listed from the safetensors headers only:
 * `model.safetensors`, or the shards that `model.safetensors.index.json`'s weight_map names.
 * Each tensor is read on demand, one at a time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch } from '../errors.js';
import { isPlainFileName } from '../io/atomic.js';
import { MODEL_FILE, MODEL_INDEX_FILE } from '../io/checkpoint.js';
import { describeJson, isPlainObject } from '../io/read.js';
import { readJsonObject } from '../io/read-file.js';
import type { DType } from '../io/dtypes.js';
import type { RawTensor } from '../io/safetensors.js';
import { SafetensorsFile } from './safetensors-file.js';

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** The file that holds it. */
  file: string;
}

export class CheckpointTensors {
  private constructor(
    /** model.safetensors or the index file: what errors about the whole set name. */
    readonly source: string,
    private readonly files: SafetensorsFile[],
    private readonly where: Map<string, SafetensorsFile>,
  ) {}

  /** Lists the tensors of `dir` (single file or sharded); reads no tensor data. */
  static open(dir: string): CheckpointTensors {
    const single = path.join(dir, MODEL_FILE);
    if (fs.existsSync(single)) {
      const file = SafetensorsFile.open(single);
      return new CheckpointTensors(single, [file], new Map(file.names.map((n) => [n, file])));
    }
    const indexFile = path.join(dir, MODEL_INDEX_FILE);
    if (!fs.existsSync(indexFile)) throw mismatch(dir, `a checkpoint directory containing ${MODEL_FILE} or ${MODEL_INDEX_FILE}`, 'neither');
    const weightMap = readJsonObject(indexFile).weight_map;
    if (!isPlainObject(weightMap)) throw mismatch(`${indexFile}: weight_map`, 'an object of tensor name → shard file', describeJson(weightMap));
    const shards = new Map<string, SafetensorsFile>();
    const where = new Map<string, SafetensorsFile>();
    try {
      for (const [name, shard] of Object.entries(weightMap)) {
        if (typeof shard !== 'string' || !isPlainFileName(shard)) {
          throw mismatch(`${indexFile}: weight_map ${JSON.stringify(name)}`, 'a shard file name in the same directory', describeJson(shard));
        }
        let file = shards.get(shard);
        if (!file) shards.set(shard, (file = SafetensorsFile.open(path.join(dir, shard))));
        if (!file.entry(name)) throw mismatch(file.file, `tensor ${JSON.stringify(name)} (listed in ${MODEL_INDEX_FILE})`, 'no such tensor');
        where.set(name, file);
      }
    } catch (err) {
      for (const f of shards.values()) f.close();
      throw err;
    }
    return new CheckpointTensors(indexFile, [...shards.values()], where);
  }

  get names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo {
    const file = this.where.get(name);
    const e = file?.entry(name);
    if (!file || !e) throw mismatch(this.source, `a tensor named ${JSON.stringify(name)}`, 'no such tensor');
    return { dtype: e.dtype, shape: e.shape, file: file.file };
  }

  read(name: string): RawTensor {
    const file = this.where.get(name);
    if (!file) throw mismatch(this.source, `a tensor named ${JSON.stringify(name)}`, 'no such tensor');
    return file.read(name);
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

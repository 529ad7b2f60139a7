/**
 * The project's checkpoint directory, laid out as Hugging Face does so `transformers` can load it:
 *   config.json               model config (pretty JSON)
 *   model.safetensors         parameters (or shards listed in model.safetensors.index.json)
 *   optimizer.safetensors     optional optimizer state
 *   trainer_state.json        optional step counters, RNG state, ...
 *   tokenizer.json, tokenizer_config.json, generation_config.json   the tokenizer (see hf/tokenizer-files.ts)
 *   <extra files>             optional text
 * Checking parameter shapes against the config is the model code's job, not this file's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch } from '../errors.js';
import { findInterruptedDirSwap, isPlainFileName, writeDirAtomic } from './atomic.js';
import { isPlainObject, describeJson } from './read.js';
import { readJsonObject, readText } from './read-file.js';
import type { RawTensor } from './safetensors.js';
import { readSafetensors } from './safetensors-fs.js';
import { assertFinite } from './nonfinite.js';
import { checkpointTokenizerFiles, type TokenizerSource } from '../hf/tokenizer-files.js';
import { checkpointFiles, CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE } from './checkpoint-files.js';

export { CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE } from './checkpoint-files.js';

export interface CheckpointContents {
  config: object;
  params: Record<string, RawTensor>;
  optimizer?: Record<string, RawTensor>;
  trainerState?: object;
  /** The model's tokenizer, or the checkpoint directory whose tokenizer files to carry; null only for a source that has none. */
  tokenizer: TokenizerSource;
  extraFiles?: Record<string, string>;
}

export interface LoadedCheckpoint {
  config: Record<string, unknown>;
  params: Record<string, RawTensor>;
  optimizer?: Record<string, RawTensor>;
  trainerState?: Record<string, unknown>;
}

/** Writes a checkpoint atomically: `dir` holds either the previous checkpoint or this one. */
export function saveCheckpoint(dir: string, contents: CheckpointContents): void {
  const { tokenizer, ...rest } = contents;
  writeDirAtomic(dir, checkpointFiles(dir, { ...rest, tokenizerFiles: checkpointTokenizerFiles(tokenizer, contents.config) }));
}

/** Reads the parameters of a sharded checkpoint: the index's weight_map names each tensor's shard. */
function readShardedParams(dir: string): Record<string, RawTensor> {
  const indexFile = path.join(dir, MODEL_INDEX_FILE);
  const weightMap = readJsonObject(indexFile).weight_map;
  if (!isPlainObject(weightMap)) throw mismatch(`${indexFile}: weight_map`, 'an object of tensor name → shard file', describeJson(weightMap));
  const shards = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      throw mismatch(`${indexFile}: weight_map ${JSON.stringify(name)}`, 'a shard file name in the same directory', describeJson(shard));
    }
    shards.set(shard, [...(shards.get(shard) ?? []), name]);
  }
  const params: Array<[string, RawTensor]> = [];
  for (const [shard, names] of shards) {
    const shardFile = path.join(dir, shard);
    if (!fs.existsSync(shardFile)) {
      throw mismatch(shardFile, `a shard listed in ${MODEL_INDEX_FILE} (for ${names.length} tensor${names.length === 1 ? '' : 's'}, e.g. ${JSON.stringify(names[0])})`, 'no such file');
    }
    const { tensors } = readSafetensors(shardFile);
    for (const name of names) {
      if (!Object.hasOwn(tensors, name)) throw mismatch(shardFile, `tensor ${JSON.stringify(name)} (listed in ${MODEL_INDEX_FILE})`, 'no such tensor');
      params.push([name, tensors[name]]);
    }
  }
  return Object.fromEntries(params);
}

/** The checkpoint directory inside a run directory (runPaths in train/run.ts names it too). */
export const RUN_CHECKPOINT_DIR = 'checkpoint';

/**
 * Where a kill between the two renames of a checkpoint save left the previous checkpoint, said the same
 * way whether `dir` is the checkpoint or its run directory (empty when there is no such leftover).
 */
export function interruptedSaveHint(dir: string): string {
  const own = fs.existsSync(dir) ? undefined : findInterruptedDirSwap(dir)[0];
  const leftover = own ?? findInterruptedDirSwap(path.join(dir, RUN_CHECKPOINT_DIR))[0];
  if (!leftover) return '';
  // A run's checkpoint is restored by resuming the run; another directory's leftover is only pointed at.
  const run = !own ? dir : path.basename(path.resolve(dir)) === RUN_CHECKPOINT_DIR ? path.dirname(dir) : undefined;
  return ` (an interrupted save left the previous checkpoint in ${leftover}${run === undefined ? '' : `; train --resume ${run} restores it`})`;
}

/** existsSync says false for a dangling or looping symlink; say that instead of "no such file". */
function refuseBrokenLink(file: string): void {
  let isLink = false;
  try {
    isLink = fs.lstatSync(file).isSymbolicLink();
  } catch {
    return; // nothing there at all
  }
  if (isLink && !fs.existsSync(file)) throw mismatch(file, 'a file (or a link to one)', 'a symbolic link to nothing, or a link loop');
}

export interface LoadOptions {
  /** Load weights and optimizer moments holding NaN/Inf instead of refusing them (for forensics). */
  allowNonfinite?: boolean;
}

const NONFINITE_HINT = ' (pass --allow-nonfinite / allowNonfinite to load it anyway)';

/**
 * Reads a checkpoint directory written by saveCheckpoint or by Hugging Face (single file or sharded).
 * Tensors holding NaN or Inf are refused with their name unless `allowNonfinite`.
 */
export function loadCheckpointFiles(dir: string, options: LoadOptions = {}): LoadedCheckpoint {
  if (!fs.existsSync(dir)) throw mismatch(dir, 'a checkpoint directory', `nothing at that path${interruptedSaveHint(dir)}`);
  if (!fs.statSync(dir).isDirectory()) throw mismatch(dir, 'a checkpoint directory', 'a file');
  const at = (name: string) => path.join(dir, name);
  for (const name of [CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE]) refuseBrokenLink(at(name));
  // A run directory whose checkpoint/ a kill left renamed aside mid-save says so (resume repairs it).
  if (!fs.existsSync(at(CONFIG_FILE))) throw mismatch(dir, `a checkpoint directory containing ${CONFIG_FILE}`, `no ${CONFIG_FILE}${interruptedSaveHint(dir)}`);
  const config = readJsonObject(at(CONFIG_FILE));

  let params: Record<string, RawTensor>;
  if (fs.existsSync(at(MODEL_FILE))) params = readSafetensors(at(MODEL_FILE)).tensors;
  else if (fs.existsSync(at(MODEL_INDEX_FILE))) params = readShardedParams(dir);
  else throw mismatch(dir, `a checkpoint directory containing ${MODEL_FILE} or ${MODEL_INDEX_FILE}`, 'neither');

  if (!options.allowNonfinite) assertFinite(params, at(fs.existsSync(at(MODEL_FILE)) ? MODEL_FILE : MODEL_INDEX_FILE), NONFINITE_HINT);
  const loaded: LoadedCheckpoint = { config, params };
  if (fs.existsSync(at(OPTIMIZER_FILE))) {
    loaded.optimizer = readSafetensors(at(OPTIMIZER_FILE)).tensors;
    if (!options.allowNonfinite) assertFinite(loaded.optimizer, at(OPTIMIZER_FILE), NONFINITE_HINT);
  }
  if (fs.existsSync(at(TRAINER_STATE_FILE))) loaded.trainerState = readJsonObject(at(TRAINER_STATE_FILE));
  return loaded;
}

/** Reads an extra text file saved with the checkpoint (e.g. the tokenizer); undefined when absent. */
export function readCheckpointText(dir: string, name: string): string | undefined {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? readText(file, 'a text file') : undefined;
}

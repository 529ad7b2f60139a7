/**
 * The files of a checkpoint directory, in memory: what saveCheckpoint writes to disk (Node) and what the
 * browser page zips. Browser-safe; the one place a checkpoint's file set is assembled.
 */
import { mismatch } from '../errors.js';
import { encodeSafetensors, type RawTensor } from './safetensors.js';
import { tokenizerFiles, TOKENIZER_FILES } from '../hf/tokenizer-file-set.js';
import { float32Config } from '../hf/write-config.js';
import { mapValues, toRaw } from '../model/raw.js';
import type { Tokenizer } from '../data/tokenizer.js';
import type { ModelConfig } from '../model/config.js';
import type { Params } from '../model/params.js';

export const CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';
export const MODEL_INDEX_FILE = 'model.safetensors.index.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';
const RESERVED = new Set([CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, ...TOKENIZER_FILES]);

export interface CheckpointFileContents {
  config: object;
  params: Record<string, RawTensor>;
  optimizer?: Record<string, RawTensor>;
  trainerState?: object;
  /** tokenizer.json and friends, by file name (tokenizerFiles of a tokenizer, or a source checkpoint's files as they are). */
  tokenizerFiles: Record<string, string>;
  extraFiles?: Record<string, string>;
}

const prettyJson = (value: object): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Every weight's AdamW moments: the ones given, and zeros (what AdamW starts from) for a weight that has
 * none (a transform added it, or could not carry them). A resume then refuses any missing moment.
 */
function withAllMoments(optimizer: Record<string, RawTensor>, params: Record<string, RawTensor>): Record<string, RawTensor> {
  const out = { ...optimizer };
  for (const [name, p] of Object.entries(params)) {
    for (const key of [`m.${name}`, `v.${name}`]) {
      if (!Object.hasOwn(out, key)) out[key] = { dtype: 'F32', shape: [...p.shape], data: new Float32Array(p.data.length) };
    }
  }
  return out;
}

/** Every file of a checkpoint by name; `where` names it in the one-line refusal of a reserved extra file name. */
export function checkpointFiles(where: string, contents: CheckpointFileContents): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    [CONFIG_FILE]: prettyJson(contents.config),
    // transformers refuses safetensors files whose metadata lacks format: 'pt'.
    [MODEL_FILE]: encodeSafetensors(contents.params, { format: 'pt' }),
  };
  if (contents.optimizer) files[OPTIMIZER_FILE] = encodeSafetensors(withAllMoments(contents.optimizer, contents.params), { format: 'pt' });
  if (contents.trainerState) files[TRAINER_STATE_FILE] = prettyJson(contents.trainerState);
  Object.assign(files, contents.tokenizerFiles);
  for (const [name, text] of Object.entries(contents.extraFiles ?? {})) {
    if (RESERVED.has(name)) throw mismatch(`${where}: extra file name`, 'a name not used by the checkpoint itself', name);
    files[name] = text;
  }
  return files;
}

/**
 * A model (no optimizer state) as the files of a Hugging Face-layout checkpoint, float32 (config.json says
 * so), as saveModel writes them. On webgpu, prefetchToHost(params) first: this reads them synchronously.
 * `tokenizer`: the model's tokenizer, or the tokenizer files to carry as they are.
 */
export function modelFiles(config: ModelConfig, params: Params, tokenizer: Tokenizer | Record<string, string>): Record<string, Uint8Array | string> {
  const stored = float32Config(config);
  const tokenizerFileSet = typeof (tokenizer as Tokenizer).huggingFace === 'function' ? tokenizerFiles(tokenizer as Tokenizer, stored) : (tokenizer as Record<string, string>);
  return checkpointFiles('model', { config: stored, params: mapValues(params, toRaw), tokenizerFiles: tokenizerFileSet });
}

/**
 * Loads a Hugging Face directory (ours or transformers') as config + tf tensors, streaming: names and
 * shapes are checked against config.json from the headers before any data is read, then each tensor
 * is read, converted to float32 (F16/BF16/F64) and handed to tfjs one at a time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { CONFIG_FILE, interruptedSaveHint, type LoadOptions } from '../io/checkpoint.js';
import { assertFinite } from '../io/nonfinite.js';
import { readJsonObject } from '../io/read-file.js';
import { dimsOf, validateConfig, type ModelConfig } from '../model/config.js';
import { checkParams, type Params } from '../model/params.js';
import { fromRaw } from '../model/raw.js';
import { CheckpointTensors } from './checkpoint-tensors.js';
import type { RawTensor } from '../io/safetensors.js';

const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16', 'F64']);
const NONFINITE_HINT = ' (pass --allow-nonfinite / allowNonfinite to load it anyway)';

/** Tensors some HF checkpoints carry that the model does not use: RoPE buffers, a tied head's copy. */
function unused(name: string, tied: boolean): boolean {
  return name.endsWith('rotary_emb.inv_freq') || (tied && name === 'lm_head.weight');
}

export function readHfConfig(dir: string): ModelConfig {
  const file = checkpointConfigFile(dir);
  return validateConfig(readJsonObject(file), file);
}

/** `dir`'s config.json, after one clear line when `dir` is missing, a file, or holds no config.json. */
export function checkpointConfigFile(dir: string): string {
  if (!fs.existsSync(dir)) throw mismatch(dir, 'a checkpoint directory', `nothing at that path${interruptedSaveHint(dir)}`);
  if (!fs.statSync(dir).isDirectory()) throw mismatch(dir, 'a checkpoint directory', 'a file');
  const file = path.join(dir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw mismatch(dir, `a checkpoint directory containing ${CONFIG_FILE}`, `no ${CONFIG_FILE}${interruptedSaveHint(dir)}`);
  return file;
}

/**
 * Lists the tensors of `dir` that the model uses and checks them against `config` (names, shapes, float
 * dtypes) from the headers alone. The caller closes `tensors`.
 */
export function openCheckedTensors(dir: string, config: ModelConfig): { tensors: CheckpointTensors; names: string[] } {
  const tied = dimsOf(config).tied;
  const tensors = CheckpointTensors.open(dir);
  try {
    const names = tensors.names.filter((n) => !unused(n, tied));
    const infos = Object.fromEntries(names.map((n) => [n, tensors.info(n)]));
    checkParams(config, infos, tensors.source);
    for (const name of names) {
      const { dtype, file } = infos[name];
      if (!FLOAT_TYPES.has(dtype)) throw mismatch(`${file}: weight "${name}"`, 'a floating-point tensor (F32, F16, BF16 or F64)', dtype);
    }
    return { tensors, names };
  } catch (err) {
    tensors.close();
    throw err;
  }
}

/** Refuses NaN/Inf in one tensor read from `file` unless allowed. */
export function checkFinite(name: string, raw: RawTensor, file: string, options: LoadOptions): void {
  if (!options.allowNonfinite) assertFinite({ [name]: raw }, file, NONFINITE_HINT);
}

export function loadHfModel(dir: string, options: LoadOptions = {}): { config: ModelConfig; params: Params } {
  const config = readHfConfig(dir);
  const { tensors, names } = openCheckedTensors(dir, config);
  const params: Params = {};
  try {
    for (const name of names) {
      const raw = tensors.read(name);
      checkFinite(name, raw, tensors.info(name).file, options);
      params[name] = fromRaw(raw);
    }
  } catch (err) {
    tf.dispose(Object.values(params));
    throw err;
  } finally {
    tensors.close();
  }
  return { config, params };
}
